/** The one error shape that crosses every door (IPC, WebSocket, CLI). */
export interface ErrorDTO {
  /** Stable machine code, e.g. `bad-request`, `host-key-changed`. */
  code: string;
  /** One sentence a person can read. */
  message: string;
  /** What underneath caused it (stderr line, errno, …). */
  cause?: string;
  /** The exact command or action that fixes it. */
  fix?: string;
  host?: string;
  step?: string;
  /** values a window or script must read back (a fingerprint, sizes), never parsed out of text */
  details?: Record<string, string | number | boolean>;
}

/** Thrown inside the core; turned into an ErrorDTO at the doors. */
export class LockstepError extends Error {
  readonly code: string;
  readonly fix?: string;
  readonly host?: string;
  readonly step?: string;
  readonly causeText?: string;
  readonly details?: Record<string, string | number | boolean>;

  constructor(dto: ErrorDTO) {
    super(dto.message);
    this.name = 'LockstepError';
    this.code = dto.code;
    this.fix = dto.fix;
    this.host = dto.host;
    this.step = dto.step;
    this.causeText = dto.cause;
    this.details = dto.details;
  }

  toDTO(): ErrorDTO {
    const dto: ErrorDTO = { code: this.code, message: this.message };
    if (this.causeText !== undefined) dto.cause = this.causeText;
    if (this.fix !== undefined) dto.fix = this.fix;
    if (this.host !== undefined) dto.host = this.host;
    if (this.step !== undefined) dto.step = this.step;
    if (this.details !== undefined) dto.details = this.details;
    return dto;
  }
}

export function toErrorDTO(err: unknown): ErrorDTO {
  if (err instanceof LockstepError) return err.toDTO();
  if (err instanceof Error) {
    return { code: 'internal', message: err.message, cause: err.stack?.split('\n')[1]?.trim() };
  }
  return { code: 'internal', message: String(err) };
}

export function isErrorDTO(v: unknown): v is ErrorDTO {
  return typeof v === 'object' && v !== null && typeof (v as ErrorDTO).code === 'string' && typeof (v as ErrorDTO).message === 'string';
}
