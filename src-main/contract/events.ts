/** Main → renderer traffic: events only, named noun-verbed, carrying plain DTOs. */
import type { EventRecord, PlanDTO, ProgressDTO } from './dto.js';
import type { LabStatus } from './lab.js';

export type AppEvent =
  | { type: 'event-logged'; record: EventRecord }
  | { type: 'task-updated'; plan: PlanDTO }
  | { type: 'lab-changed'; status: LabStatus }
  | { type: 'discovery-progressed'; progress: ProgressDTO }
  | { type: 'console-printed'; streamId: string; data: string }
  | { type: 'console-closed'; streamId: string; reason: string };

export type AppEventType = AppEvent['type'];
