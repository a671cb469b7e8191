/** Consoles: VM serial consoles and host shells, as streams. */
export type ConsoleTarget = { kind: 'host'; host: string } | { kind: 'vm'; side: 'primary' | 'secondary' };

export interface ConsoleDTO {
  streamId: string;
  title: string;
  target: ConsoleTarget;
  /** recent output, so a (re)connecting window can show what was there */
  backlog: string;
  open: boolean;
}
