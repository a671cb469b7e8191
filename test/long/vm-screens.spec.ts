/**
 * Issue 21 in the window: the graphical consoles of both VMs of a protected user VM. The test VM (a
 * Debian 12 the app did not make, BIOS boot from its own disk; test/helpers/test-vm) is protected
 * from its qcow2 on the namespace lab; then real Chromium opens the Consoles view of web mode, where
 * noVNC shows each VM's screen — QEMU's VNC on a unix socket of each host, reached through the app's
 * SSH connection and the local server's /vnc WebSocket. Checked: both screens connect, a framebuffer
 * size is set and the canvas carries real pixels (not one colour); the secondary is view-only and
 * says why; a /vnc WebSocket without the token is refused. Screenshots of both.
 * Heavy: run it under the shared lock.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabStatus, PairStatus } from '../../src-main/contract/index.js';
import { launchChromium } from '../helpers/browser.js';
import { labCli } from '../helpers/lab-cli.js';
import { labEnv } from '../helpers/lab-env.js';
import { root, startServer, stop } from '../helpers/processes.js';
import { buildTestVm, TEST_VM_PORT } from '../helpers/test-vm/test-vm.js';

const NET = '198.18.69';
const { env, home } = labEnv('gv', NET);
const cli = labCli(env, 900_000);
type Up = Extract<LabStatus, { state: 'up' }>;
let srv: Awaited<ReturnType<typeof startServer>>;
let chrome: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const shots = join(root, 'test/ui/screenshots');

beforeAll(async () => {
  mkdirSync(`${home.path}/images`, { recursive: true });
  const build = buildTestVm(`${home.path}/images/testvm.qcow2`, { address: `${NET}.50`, prefixLen: 24 });
  console.log(`test_vm_build_seconds: ${build.seconds.toFixed(1)} (${build.cached ? 'cached' : 'built'})`);
  cli.json(['lab', 'down']);
  cli.ok<Up>(['lab', 'up']);
  cli.ok(['hosts', 'add-lab']);
  const p = cli.json<PairStatus>([
    'lockstep',
    'protect',
    'hostA',
    'hostB',
    '--disk',
    `hostA:${build.path}`,
    '--memory',
    '256',
    '--cpus',
    '1',
    '--mac',
    '52:54:00:69:76:01',
    '--port',
    String(TEST_VM_PORT),
  ]);
  expect(p.error).toBeUndefined();
  expect(p.value).toMatchObject({ state: 'lockstep' });
  srv = await startServer(env);
  chrome = await launchChromium();
  page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(srv.appUrl);
}, 40 * 60_000);

afterAll(async () => {
  await chrome?.close();
  if (srv) await stop(srv.child);
  cli.json(['lockstep', 'stop']);
  cli.json(['lab', 'down']);
  home.remove();
}, 180_000);

/** The screen's canvas: its size and how many distinct colours a sample of its pixels has. */
const canvasFacts = (side: string) =>
  page.locator(`[data-testid="vnc"][data-side="${side}"] canvas`).evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set<number>();
    for (let i = 0; i < d.length; i += 4 * 97) colours.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
    return { width: c.width, height: c.height, colours: colours.size };
  });

describe('both VMs’ graphical consoles in the window', () => {
  it('the Consoles view shows both screens with real pixels; the secondary is view-only and says why', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Consoles', exact: true }).click();
    await page.getByTestId('screens').waitFor({ timeout: 30_000 });
    for (const side of ['primary', 'secondary']) {
      const screen = page.locator(`[data-testid="vnc"][data-side="${side}"]`);
      await screen.and(page.locator('[data-state="open"]')).waitFor({ timeout: 60_000 });
      expect(await screen.getAttribute('data-fb')).toMatch(/^\d{3,4}x\d{3,4}$/);
      // the guest prints on tty0 (kernel, then a login prompt): wait for more than a blank screen
      let facts = await canvasFacts(side);
      for (let i = 0; i < 60 && facts.colours < 2; i++) {
        await page.waitForTimeout(1000);
        facts = await canvasFacts(side);
      }
      console.log(`vnc_${side}_framebuffer: ${facts.width}x${facts.height} (${facts.colours} colours sampled)`);
      expect(facts.width).toBeGreaterThanOrEqual(640);
      expect(facts.height).toBeGreaterThanOrEqual(400);
      expect(facts.colours).toBeGreaterThanOrEqual(2);
      await screen.screenshot({ path: join(shots, `vm-screen-${side}.png`) });
    }
    const secondary = page.locator('[data-testid="vnc"][data-side="secondary"]');
    expect(await secondary.getByRole('checkbox').isChecked()).toBe(false);
    expect(await page.getByTestId('vnc-secondary-note').textContent()).toContain('input here is undone by the next checkpoint');
    expect(await page.locator('[data-testid="vnc"][data-side="primary"]').getByRole('checkbox').isChecked()).toBe(true);
    await page.screenshot({ path: join(shots, 'vm-screens.png'), fullPage: true });
    // the screen's cost in lockstep: the VGA's memory is in every checkpoint (a figure, not a limit)
    const st = cli.ok<PairStatus>(['lockstep', 'status']);
    expect(st.state).toBe('lockstep');
    if (st.state === 'lockstep') console.log(`user_vm_with_vga_checkpoint_pause_p50_ms: ${st.checkpointPauseMsP50 ?? 'none yet'}`);
  }, 300_000);

  it('a /vnc WebSocket without the token (or with a wrong one) is refused, from the page itself', async () => {
    const tryOpen = (q: string) =>
      page.evaluate(
        (u) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(u);
            ws.binaryType = 'arraybuffer';
            ws.onopen = () => {
              // with the token, QEMU's RFB greeting arrives through the bridge
              ws.onmessage = (m) => {
                resolve(`open:${new TextDecoder().decode((m.data as ArrayBuffer).slice(0, 12))}`);
                ws.close();
              };
            };
            ws.onclose = (e) => resolve(`closed:${e.code}`);
          }),
        `ws://127.0.0.1:${srv.port}/vnc${q}`,
      );
    expect(await tryOpen('?side=primary')).toBe('closed:1006');
    expect(await tryOpen('?side=primary&token=wrong')).toBe('closed:1006');
    expect(await tryOpen(`?side=primary&token=${srv.token}`)).toMatch(/^open:RFB 003\.00\d/);
  }, 60_000);
});
