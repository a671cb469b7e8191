/** Issue 21: the graphical console's pure parts — QEMU's display arguments and the /vnc route's side. */
import { describe, expect, it } from 'vitest';
import { LockstepError } from '../../src-main/contract/index.js';
import { primaryArgs, secondaryArgs } from '../../src-main/lockstep/colo-args.js';
import { spec } from '../../src-main/lockstep/colo-steps.js';
import type { PairRecord } from '../../src-main/lockstep/pair-record.js';
import { displayArgs } from '../../src-main/lockstep/vm-display.js';
import { displaySideOf } from '../../src-main/transports/server/display-socket.js';

const rec: PairRecord = {
  state: 'starting',
  primary: 'a:22',
  secondary: 'b:22',
  accel: 'tcg',
  qemuMajor: 7,
  xa: '10.99.0.1',
  xb: '10.99.0.2',
  guestAddress: '198.18.72.50',
  guestCidr: '198.18.72.50/24',
  since: 0,
  diskSync: 'full-copy',
  vm: { kind: 'image', sourceHost: 'hostA', source: '/img.qcow2', memoryMiB: 256, cpus: 1, mac: '52:54:00:72:76:01' },
};

describe('a user VM’s screen: SeaBIOS VGA and VNC on a unix socket only', () => {
  it('both sides get standard VGA and their own VNC socket under the run directory, never a TCP port', () => {
    const p = primaryArgs(spec(rec, 'primary'));
    const s = secondaryArgs({ ...spec(rec, 'secondary'), active: '/a', hidden: '/h' });
    for (const [args, files] of [
      [p, 'primary'],
      [s, 'secondary'],
    ] as const) {
      expect(args[args.indexOf('-vga') + 1]).toBe('std');
      expect(args.filter((a) => a === '-vnc')).toHaveLength(1);
      expect(args[args.indexOf('-vnc') + 1]).toBe(`unix:/run/lockstep/vm/${files}-vnc.sock`);
      // the window of the host stays closed: no SDL/GTK display, only the VNC server
      expect(args[args.indexOf('-display') + 1]).toBe('none');
    }
  });
  it('the demo guest has no screen: no VGA, no VNC', () => {
    const { vm: _vm, ...demo } = rec;
    const args = primaryArgs(spec(demo as PairRecord, 'primary'));
    expect(args[args.indexOf('-vga') + 1]).toBe('none');
    expect(args).not.toContain('-vnc');
  });
  it('refuses a socket path QEMU would read as more options', () => {
    expect(() => displayArgs('disk', '/run/x,password=on')).toThrow(/VNC socket path/);
    expect(() => displayArgs('disk', 'relative.sock')).toThrow(/VNC socket path/);
    expect(() => displayArgs('disk', '/run/../x.sock')).toThrow(/VNC socket path/);
    expect(displayArgs('disk', '/run/v.sock')).toEqual(['-vga', 'std', '-vnc', 'unix:/run/v.sock']);
  });
});

describe('/vnc?side=…: which screen', () => {
  it('takes primary or secondary and refuses anything else with the fix', () => {
    expect(displaySideOf(new URLSearchParams('side=primary&token=x'))).toBe('primary');
    expect(displaySideOf(new URLSearchParams('side=secondary'))).toBe('secondary');
    for (const q of ['', 'side=', 'side=PRIMARY', 'side=../primary', 'side=primary2']) {
      let err: unknown;
      try {
        displaySideOf(new URLSearchParams(q));
      } catch (e) {
        err = e;
      }
      expect(err, q).toBeInstanceOf(LockstepError);
      expect((err as LockstepError).fix, q).toContain('/vnc?side=primary');
    }
  });
});
