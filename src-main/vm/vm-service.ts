/**
 * Choose the VM: lists host A's libvirt domains, reads one (`virsh dumpxml`) or a disk image
 * (`qemu-img info`), and says what COLO can carry of it before anything is touched. Reads only:
 * nothing here changes a host. Every command is an argv array through hosts/ (the host-command
 * inventory); names and paths are checked first (./inputs.ts), and nothing runs when one is refused.
 */
import type { HostDTO } from '../contract/hosts.js';
import { LockstepError, type Vm, type VmHostFacts, type VmInspection, type VmListing } from '../contract/index.js';
import { installFixAnyDistro } from '../hosts/distro.js';
import type { HostsService } from '../hosts/hosts-service.js';
import { droppedError, type ExecResult, type SshSession } from '../hosts/ssh-session.js';
import type { EventBus } from '../events/event-bus.js';
import { parseDomainXml } from './domain-xml.js';
import { vmFindings, vmVerdict } from './findings.js';
import { parseProbe, parseVirshList, PROBE_SCRIPT } from './host-probe.js';
import { imageVm, parseImageInfo, withImageInfo, type ImageInfo } from './image-info.js';
import { checkDiskPath, checkDomainName, inspectTarget, isDiskPath, type InspectRequest } from './inputs.js';

const TIMEOUT = 30_000;

export class VmService {
  constructor(private readonly deps: { hosts: HostsService; bus: EventBus }) {}

  private async run(h: HostDTO, s: SshSession, argv: string[]): Promise<ExecResult> {
    const r = await s.exec(argv, { timeoutMs: TIMEOUT });
    if (r.dropped) throw droppedError(`${h.name} (${h.hostId})`, argv.join(' '));
    return r;
  }

  /** virsh's failure, worded for a person: libvirt missing, not running, no permission, no such domain. */
  private virshError(h: HostDTO, argv: string[], r: ExecResult, domain?: string): LockstepError {
    const text = `${r.stderr}\n${r.stdout}`;
    const cause = text.trim().split('\n').slice(-3).join(' | ').slice(0, 400);
    const image = `or, without libvirt, inspect the disk image: lockstep vm inspect ${h.name} --disk PATH --memory MIB --cpus N`;
    if (r.code === 127 || /virsh: (command )?not found|No such file or directory.*virsh/.test(text))
      return new LockstepError({
        code: 'libvirt-missing',
        message: `libvirt's virsh is not installed on ${h.name}.`,
        cause,
        host: h.hostId,
        fix: `Install it on ${h.name} (${installFixAnyDistro(['virsh'])}), ${image}`,
      });
    if (/Failed to connect socket|failed to connect to the hypervisor|Connection refused|no connection driver available/i.test(text))
      return new LockstepError({
        code: 'libvirt-not-running',
        message: `libvirt is not running on ${h.name}: virsh could not connect to ${argv[2]}.`,
        cause,
        host: h.hostId,
        fix: `On ${h.name}: \`systemctl enable --now libvirtd\` (or \`systemctl enable --now virtqemud.socket\` where libvirt is modular), ${image}`,
      });
    if (/authentication (failed|unavailable)|Permission denied|access denied/i.test(text))
      return new LockstepError({
        code: 'libvirt-denied',
        message: `${h.user} on ${h.name} may not use libvirt.`,
        cause,
        host: h.hostId,
        fix: `On ${h.name}: \`usermod -aG libvirt ${h.user}\` (then reconnect), or add the host as root.`,
      });
    if (domain && /failed to get domain|Domain not found/i.test(text))
      return new LockstepError({
        code: 'vm-domain-unknown',
        message: `${h.name}'s libvirt has no domain "${domain}".`,
        cause,
        host: h.hostId,
        fix: `lockstep vm list ${h.name}   (shows the domains there)`,
      });
    return new LockstepError({
      code: 'remote-command-failed',
      message: `\`${argv.join(' ').slice(0, 160)}\` failed on ${h.name} (exit ${r.code}).`,
      cause,
      host: h.hostId,
    });
  }

  async list(i: { host: string; connect: string }): Promise<VmListing> {
    const h = this.deps.hosts.resolve(i.host);
    const s = await this.deps.hosts.session(h);
    const argv = ['virsh', '-c', i.connect, 'list', '--all'];
    const r = await this.run(h, s, argv);
    if (r.code !== 0) throw this.virshError(h, argv, r);
    return { host: h.name, connect: i.connect, domains: parseVirshList(r.stdout) };
  }

  async facts(h: HostDTO): Promise<VmHostFacts> {
    const s = await this.deps.hosts.session(h);
    // a fixed script on stdin (an argument may not hold newlines)
    const r = await s.exec(['sh', '-s'], { stdin: PROBE_SCRIPT, timeoutMs: TIMEOUT });
    if (r.dropped) throw droppedError(`${h.name} (${h.hostId})`, 'sh -s (VM host facts)');
    return parseProbe(h.name, r.stdout);
  }

  /** qemu-img info of one image (-U: an image a running VM holds can be read too). */
  private async imageInfo(h: HostDTO, s: SshSession, path: string): Promise<{ info: ImageInfo; block: boolean }> {
    checkDiskPath(path);
    const st = await this.run(h, s, ['stat', '-L', '-c', '%F', path]);
    if (st.code !== 0)
      throw new LockstepError({
        code: 'vm-disk-missing',
        message: `${h.name} has no disk image ${path}.`,
        cause: st.stderr.trim().slice(0, 300),
        host: h.hostId,
        fix: `Check the path on ${h.name} (\`ls -l ${path}\`); give the image's absolute path with --disk.`,
      });
    const argv = ['qemu-img', 'info', '--output=json', '--backing-chain', '-U', path];
    const r = await this.run(h, s, argv);
    if (r.code !== 0)
      throw new LockstepError({
        code: r.code === 127 ? 'qemu-img-missing' : 'vm-image-unreadable',
        message: r.code === 127 ? `qemu-img is not installed on ${h.name}.` : `qemu-img could not read ${path} on ${h.name}.`,
        cause: r.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 400),
        host: h.hostId,
        fix:
          r.code === 127
            ? `Install it on ${h.name}: ${installFixAnyDistro(['qemu-img'])}`
            : `Run \`qemu-img info ${path}\` on ${h.name} and check the image is a disk image it can read.`,
      });
    return { info: parseImageInfo(r.stdout, path), block: /block special/.test(st.stdout) };
  }

  private async domainVm(h: HostDTO, s: SshSession, name: string, connect: string): Promise<Vm> {
    const argv = ['virsh', '-c', connect, 'dumpxml', '--domain', checkDomainName(name)];
    const r = await this.run(h, s, argv);
    if (r.code !== 0) throw this.virshError(h, argv, r, name);
    const vm = parseDomainXml(r.stdout);
    const snaps = await this.run(h, s, ['virsh', '-c', connect, 'snapshot-list', '--domain', name, '--name']);
    if (snaps.code === 0)
      vm.snapshots = snaps.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    // what libvirt does not say of an image file (size, chain, internal snapshots), qemu-img does
    for (const [k, d] of vm.disks.entries()) {
      if (d.device !== 'disk' || !d.path || (d.sourceType !== 'file' && d.sourceType !== 'block' && d.sourceType !== 'lv')) continue;
      if (!isDiskPath(d.path)) continue; // shown as it is; qemu-img never gets a path it could misread
      const st = await this.run(h, s, ['stat', '-L', '-c', '%F', d.path]);
      if (st.code !== 0) continue; // a disk that is not there (yet): the domain says what it is
      const r2 = await this.run(h, s, ['qemu-img', 'info', '--output=json', '--backing-chain', '-U', d.path]);
      if (r2.code === 0) vm.disks[k] = withImageInfo(d, parseImageInfo(r2.stdout, d.path));
    }
    return vm;
  }

  async inspect(i: InspectRequest): Promise<VmInspection> {
    const target = inspectTarget(i); // refuses bad names/paths before any connection
    const h = this.deps.hosts.resolve(i.host);
    const peer = i.peer ? this.deps.hosts.resolve(i.peer) : undefined;
    if (peer && peer.id === h.id)
      throw new LockstepError({
        code: 'same-host',
        message: `--peer names ${h.name} again.`,
        fix: `Name the other host of the pair: lockstep vm inspect ${h.name} --peer HOST_B …`,
      });
    const s = await this.deps.hosts.session(h);
    let vm: Vm;
    if (target.kind === 'domain') vm = await this.domainVm(h, s, target.name, i.connect);
    else {
      const { info, block } = await this.imageInfo(h, s, target.path);
      vm = imageVm(
        { disk: target.path, memoryMiB: target.memoryMiB, cpus: target.cpus, mac: i.mac?.toLowerCase(), boot: i.boot ?? 'bios', bridge: i.bridge },
        info,
        block,
      );
    }
    const hosts = await Promise.all([h, ...(peer ? [peer] : [])].map((x) => this.facts(x)));
    const findings = vmFindings(vm, hosts);
    const verdict = vmVerdict(findings);
    this.deps.bus.log(
      verdict.tier === 'lockstep' ? 'info' : 'warn',
      'vm',
      `VM ${vm.name} on ${h.name}: ${verdict.tier} (${findings.filter((f) => f.severity === 'refuse').length} refusals, ${findings.filter((f) => f.severity === 'warn').length} warnings)`,
    );
    return { vm, hosts, findings, verdict };
  }
}
