import type { WebSocket } from 'ws';
import type { Core } from '../../app/core.js';
import { LockstepError } from '../../contract/index.js';

/** The path of a VM's graphical console on the local server: `/vnc?side=primary|secondary&token=…`. */
export const DISPLAY_PATH = '/vnc';

/** Pure: which VM's screen an upgrade asks for; anything else is refused with the fix. */
export function displaySideOf(params: URLSearchParams): 'primary' | 'secondary' {
  const side = params.get('side');
  if (side === 'primary' || side === 'secondary') return side;
  throw new LockstepError({
    code: 'bad-arguments',
    message: `No such screen: side=${JSON.stringify((side ?? '').slice(0, 20))}.`,
    fix: 'Ask for /vnc?side=primary or /vnc?side=secondary (with the token).',
  });
}

/**
 * One viewer's RFB session: the browser's WebSocket (binary frames) piped to QEMU's VNC socket on
 * the VM's host, through the app's SSH connection. Either end closing closes the other; a failure to
 * reach the screen closes the socket with the error's message (close code 4404 / 4500).
 */
export async function attachDisplay(core: Core, ws: WebSocket, side: 'primary' | 'secondary'): Promise<void> {
  ws.on('error', () => undefined);
  let d;
  try {
    d = await core.displays.connect(side);
  } catch (e) {
    const why = e instanceof LockstepError ? e.message : `Could not reach the ${side} VM's screen: ${(e as Error).message}`;
    ws.close(e instanceof LockstepError ? 4404 : 4500, why.slice(0, 120));
    return;
  }
  const { stream } = d;
  if (ws.readyState !== ws.OPEN) return void stream.destroy();
  stream.on('data', (b: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(b, { binary: true });
    // a slow viewer must not buffer the screen without bound: hold QEMU until the socket drained
    if (ws.bufferedAmount > 4 << 20) {
      stream.pause();
      const drain = setInterval(() => {
        if (ws.readyState !== ws.OPEN || ws.bufferedAmount < 1 << 20) {
          clearInterval(drain);
          stream.resume();
        }
      }, 20);
    }
  });
  stream.on('error', () => ws.close(1011, 'The screen went away.'));
  stream.on('close', () => ws.readyState === ws.OPEN && ws.close(1000, 'The screen closed (the VM or the connection went away).'));
  ws.on('message', (m: Buffer | ArrayBuffer | Buffer[]) => {
    stream.write(Buffer.isBuffer(m) ? m : Array.isArray(m) ? Buffer.concat(m) : Buffer.from(m));
  });
  ws.on('close', () => stream.destroy());
}
