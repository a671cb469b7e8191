/** Main → renderer traffic: events only, named noun-verbed, carrying plain DTOs. */
import type { EventRecord, PlanDTO, ProgressDTO } from './dto.js';
import type { LabStatus } from './lab.js';
import type { LinkStatus, MirrorStatusDTO } from './link.js';
import type { PairStatus } from './lockstep.js';
import type { AgentStatus } from './agent.js';
import type { GuestPeekDTO } from './booth.js';
import type { ErrorDTO } from './errors.js';

export type AppEvent =
  | { type: 'event-logged'; record: EventRecord }
  | { type: 'task-updated'; plan: PlanDTO }
  | { type: 'lab-changed'; status: LabStatus }
  | { type: 'discovery-progressed'; progress: ProgressDTO }
  | { type: 'console-printed'; streamId: string; data: string }
  | { type: 'console-closed'; streamId: string; reason: string }
  /** the core's one pair watcher observed link, mirror, lockstep and agents (null: that call failed) */
  | {
      type: 'pair-observed';
      at: number;
      link: LinkStatus | null;
      mirror: MirrorStatusDTO | null;
      pair: PairStatus | null;
      agents: AgentStatus | null;
    }
  /** the core read the guest's counter (twice a second while a booth window watches: `guest.watch`) */
  | { type: 'guest-peeked'; at: number; peek: GuestPeekDTO | null; error: ErrorDTO | null };

export type AppEventType = AppEvent['type'];
