import { pairDisk } from '../mirror/pair-disk.js';
import { join } from 'node:path';
import { toErrorDTO, validateRequest, type AppEvent, type CommandName, type Output, type Result } from '../contract/index.js';
import { Store } from '../store/store.js';
import { resolveHome } from '../store/paths.js';
import { TaskRunner } from '../tasks/runner.js';
import { EventBus } from '../events/event-bus.js';
import { PairWatcher } from './pair-watcher.js';
import { GuestWatcher } from './guest-watcher.js';
import { DrillService } from '../drill/drill-service.js';
import { drillContext } from './drill-context.js';
import { makeHandlers, type Handlers } from './handlers.js';
import { version } from './version.js';
import type { Stray } from './process-guard.js';
import { distDir, nativeDir } from './paths.js';
import { LockstepService } from '../lockstep/lockstep-service.js';
import { PreflightService } from '../preflight/preflight-service.js';
import { LinkService } from '../link/link-service.js';
import { ConsoleService } from '../console/console-service.js';
import { DisplayService } from '../console/display-service.js';
import { screenOf } from '../lockstep/vm-screen.js';
import { MirrorService } from '../mirror/mirror-service.js';
import { ClusterService } from '../cluster/cluster-service.js';
import { tierGuest } from '../lockstep/tier-guest.js';
import { VirtualLab } from '../virtual-lab/lab-service.js';
import { SessionPool } from '../hosts/pool.js';
import { HostsService } from '../hosts/hosts-service.js';
import { AgentActions } from '../agent/agent-actions.js';
import { AgentService } from '../agent/agent-service.js';
import { agentPair, hostAgents } from './agent-pair.js';
import { VmService } from '../vm/vm-service.js';
import { MaintenanceService } from '../lockstep/maintenance-service.js';
import { UnprotectService } from '../lockstep/unprotect-service.js';
import { watchClients } from '../drill/client-watch.js';

export interface CoreOptions {
  door: 'web' | 'electron' | 'cli';
  home?: string;
  electronUserData?: string;
}

/**
 * The composition root: one store, one bus, one task runner and the services,
 * shared by every door. Doors call `invoke` and listen with `onEvent`.
 */
export class Core {
  readonly home: string;
  readonly store: Store;
  readonly bus: EventBus;
  readonly runner: TaskRunner;
  readonly lab: VirtualLab;
  readonly pool = new SessionPool();
  readonly hosts: HostsService;
  readonly lockstep: LockstepService;
  readonly drills: DrillService;
  readonly preflight: PreflightService;
  readonly link: LinkService;
  readonly consoles: ConsoleService;
  readonly displays: DisplayService;
  readonly mirror: MirrorService;
  readonly cluster: ClusterService;
  readonly agent: AgentService;
  readonly vm: VmService;
  readonly maintenance: MaintenanceService;
  readonly unprotect: UnprotectService;
  readonly startedAt = Date.now();
  private readonly handlers: Handlers;
  private tail?: NodeJS.Timeout;
  /** one watcher of the pair for every window (windows subscribe to `pair-observed` instead of polling) */
  readonly pairWatcher: PairWatcher;
  /** one reader of the guest's counter for every booth window (`guest.watch` leases; `guest-peeked` pushes) */
  readonly guestWatcher: GuestWatcher;

  constructor(readonly options: CoreOptions) {
    this.home = options.home ?? resolveHome(process.env, options.electronUserData);
    this.store = Store.open(join(this.home, 'lockstep.db'));
    this.bus = new EventBus(this.store.events);
    this.runner = new TaskRunner(this.store.plans, this.bus);
    this.lab = new VirtualLab({ kv: this.store.kv, runner: this.runner, bus: this.bus, home: this.home, nativeDir: nativeDir(), distDir: distDir() });
    this.hosts = new HostsService({ hosts: this.store.hosts, pool: this.pool, bus: this.bus, lab: this.lab });
    this.preflight = new PreflightService({ hosts: this.hosts, bus: this.bus, kv: this.store.kv });
    this.consoles = new ConsoleService({ hosts: this.hosts, bus: this.bus });
    this.displays = new DisplayService({ hosts: this.hosts });
    this.vm = new VmService({ hosts: this.hosts, bus: this.bus });
    // services ask each other's state through narrow functions handed in here, never by store key
    this.link = new LinkService({
      store: this.store,
      bus: this.bus,
      runner: this.runner,
      hosts: this.hosts,
      mirrorConfigured: () => this.mirror.configured(),
    });
    this.mirror = new MirrorService({
      store: this.store,
      bus: this.bus,
      runner: this.runner,
      hosts: this.hosts,
      link: this.link,
      lastPreflight: () => this.preflight.last(),
    });
    // the cluster sees the mirror through two functions: the mirrored pair, and DRBD's fencing switch
    this.cluster = new ClusterService({
      store: this.store,
      bus: this.bus,
      runner: this.runner,
      hosts: this.hosts,
      mirror: {
        mirror: () => {
          const m = this.mirror.stored();
          if (!m?.complete) return null;
          return { hosts: m.hosts, resource: m.resource, device: m.device, crossAddresses: m.addresses, unames: m.unames };
        },
        setClusterFencing: (on) => this.mirror.setClusterFencing(on),
      },
      // the guest it runs: the demo guest's files and command line, its disk seeded once (shared with the pair's disk layer)
      guests: tierGuest({ hosts: this.hosts, lab: this.lab, guestDir: join(distDir(), 'guest'), disks: pairDisk(this.mirror) }),
      lab: this.lab,
      home: this.home,
    });
    this.lockstep = new LockstepService({
      store: this.store,
      bus: this.bus,
      runner: this.runner,
      hosts: this.hosts,
      lab: this.lab,
      link: this.link,
      nativeDir: nativeDir(),
      distDir: distDir(),
      disks: pairDisk(this.mirror),
      inspectVm: (r) => this.vm.inspect({ ...r, boot: 'bios', connect: 'qemu:///system' }),
    });
    const drillCtx = drillContext(this.lockstep);
    this.drills = new DrillService({ store: this.store, context: drillCtx });
    this.consoles.vmLocator = (side) => this.lockstep.consoleOf(side);
    this.displays.locator = (side) => screenOf(this.lockstep, side);
    this.agent = new AgentService({
      store: this.store,
      bus: this.bus,
      runner: this.runner,
      hosts: this.hosts,
      lab: this.lab,
      pair: () => {
        const r = this.lockstep.record();
        return r && agentPair(r);
      },
      binDir: join(distDir(), 'native', 'agent'),
      home: this.home,
    });
    this.lockstep.beforeVmStop = () => this.agent.holdAll();
    this.lockstep.agents = hostAgents(new AgentActions(this.agent));
    this.maintenance = new MaintenanceService(this.lockstep);
    this.unprotect = new UnprotectService(this.lockstep);
    this.maintenance.watchClients = (address) => watchClients(drillCtx, address);
    this.handlers = makeHandlers(this);
    this.pairWatcher = new PairWatcher(
      {
        link: () => this.call('link.status', {}),
        mirror: () => this.call('mirror.status', {}),
        pair: () => this.call('lockstep.status', {}),
        agents: () => this.call('agent.status', {}),
      },
      (e) => this.bus.emit(e),
    );
    this.guestWatcher = new GuestWatcher(
      () => this.call('guest.peek', {}),
      (e) => this.bus.emit(e),
    );
  }

  get database(): string {
    return join(this.home, 'lockstep.db');
  }

  get version(): string {
    return version;
  }

  /** Long-lived doors (window, web) also show what CLIs next to them do, and resume interrupted plans. */
  startBackground(): void {
    this.runner.resumeInterrupted();
    this.tail = setInterval(() => this.bus.tailOthers(), 250);
    this.tail.unref();
  }

  onEvent(listener: (e: AppEvent) => void): () => void {
    return this.bus.on(listener);
  }

  /** A window's events plus the pair watcher while it is open (the CLI takes events only). */
  onWindowEvents(listener: (e: AppEvent) => void): () => void {
    const off = this.bus.on(listener);
    const unwatch = this.pairWatcher.watch();
    return () => {
      unwatch();
      off();
    };
  }

  /** The one entry point of every door: validates, runs, and never throws. */
  async invoke(name: unknown, input: unknown): Promise<Result<unknown>> {
    const v = validateRequest(name, input);
    if (!v.ok) return v;
    try {
      const handler = this.handlers[v.name] as (i: unknown) => Promise<unknown>;
      return { ok: true, value: await handler(v.input) };
    } catch (err) {
      return { ok: false, error: toErrorDTO(err) };
    }
  }

  /** Typed convenience for in-process callers (tests, CLI). */
  async call<K extends CommandName>(name: K, input: unknown): Promise<Result<Output<K>>> {
    return (await this.invoke(name, input)) as Result<Output<K>>;
  }

  /** A stray rejection or exception the door's process guard caught: an event, and the app goes on. */
  reportStray(s: Stray): void {
    this.bus.log('error', 'app', s.error.message, { data: { code: s.error.code, kind: s.kind, cause: s.error.cause } });
  }

  async close(): Promise<void> {
    if (this.tail) clearInterval(this.tail);
    this.guestWatcher.stop();
    this.consoles.closeAll();
    this.displays.closeAll();
    this.pool.closeAll();
    this.store.close();
  }
}
