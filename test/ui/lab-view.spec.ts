import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { labEnv } from '../helpers/lab-env.js';
import { cli, root, startServer, stop } from '../helpers/processes.js';

const { env, home } = labEnv('lu', '198.18.92');
let srv: Awaited<ReturnType<typeof startServer>>;
let chrome: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  cli(['lab', 'down'], env);
  srv = await startServer(env);
  chrome = await launchChromium();
  page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
});
afterAll(async () => {
  await chrome?.close();
  if (srv) await stop(srv.child);
  cli(['lab', 'down'], env);
  home.remove();
});

describe('Hosts view: the virtual lab from the window', () => {
  it('offers "Start virtual lab" when nothing is configured, starts it and shows both hosts with pinned keys', async () => {
    await page.goto(srv.appUrl);
    const panel = page.getByTestId('lab-panel');
    await panel.and(page.locator('[data-state="down"]')).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Start virtual lab' }).click();
    await panel.and(page.locator('[data-state="up"]')).waitFor({ timeout: 120_000 });
    const hosts = page.getByTestId('lab-host');
    expect(await hosts.count()).toBe(2);
    expect(await hosts.nth(0).textContent()).toMatch(/hostA.*198\.18\.92\.11:22.*SHA256:/s);
    await page.screenshot({ path: join(root, 'test/ui/screenshots/hosts-lab.png') });
    // what the window started, the CLI sees
    const st = JSON.parse(cli(['lab', 'status', '--json'], env).stdout) as { value: { state: string } };
    expect(st.value.state).toBe('up');
  });

  it('Setup → Discover finds both lab hosts; adding one asks to confirm its fingerprint, then pins it', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Setup' }).click();
    await page.getByRole('button', { name: 'Scan' }).click();
    const list = page.getByTestId('candidates');
    await list.locator('li').nth(1).waitFor({ timeout: 30_000 });
    expect(await list.locator('li').count()).toBe(2);
    await list.locator('li').nth(0).getByRole('button', { name: 'Add' }).click();
    const fp = page.getByTestId('fingerprint');
    await fp.waitFor();
    const st = JSON.parse(cli(['lab', 'status', '--json'], env).stdout) as { value: { hosts: { fingerprint: string }[] } };
    expect(await fp.textContent()).toBe(st.value.hosts[0]!.fingerprint);
    await page.screenshot({ path: join(root, 'test/ui/screenshots/setup-discover.png') });
    await page.getByRole('button', { name: 'Trust this key' }).click();
    await page.getByTestId('host-list').getByRole('cell', { name: 'hostA', exact: true }).waitFor({ timeout: 15_000 });
    const listed = JSON.parse(cli(['hosts', 'list', '--json'], env).stdout) as { value: { name: string; fingerprint: string }[] };
    expect(listed.value).toMatchObject([{ name: 'hostA', fingerprint: st.value.hosts[0]!.fingerprint }]);
  });

  it('Setup → Preflight shows the verdict and each finding with its copyable fix', async () => {
    expect(JSON.parse(cli(['hosts', 'add-lab', '--json'], env).stdout).ok).toBe(true);
    await page.reload();
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Setup' }).click();
    await page.getByRole('button', { name: /Preflight/ }).click();
    await page.getByRole('button', { name: 'Run preflight' }).click();
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.getAttribute('data-tier')).toBe('lockstep');
    const fixes = await page.getByTestId('finding-fix').allTextContents();
    // namespace hosts share this machine's kernel: DRBD's fix is the kernel lab, never a reboot or a kernel package
    expect(fixes.some((f) => f.includes('lab up --kernel'))).toBe(true);
    expect(fixes.filter((f) => /reboot|linux-image/.test(f))).toEqual([]);
    // the CLI shows the same findings
    const cliReport = JSON.parse(cli(['preflight', 'run', 'hostA', 'hostB', '--json'], env).stdout) as {
      value: { findings: { fix: string; level: string }[] };
    };
    expect(
      cliReport.value.findings
        .filter((f) => f.level !== 'ok')
        .map((f) => f.fix)
        .sort(),
    ).toEqual([...fixes].sort());
    await page.screenshot({ path: join(root, 'test/ui/screenshots/setup-preflight.png'), fullPage: true });
  });

  it('Consoles: a host shell in xterm.js takes typing and shows the output', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Consoles' }).click();
    await page.getByLabel('Host for a shell').selectOption({ label: 'hostA (198.18.92.11:22)' });
    await page.getByRole('button', { name: 'Open host shell' }).click();
    const shell = page.getByRole('region', { name: 'Shell on hostA' });
    await shell.and(page.locator('[data-state="open"]')).waitFor({ timeout: 20_000 });
    await shell.locator('.xterm').click();
    await page.keyboard.type('echo lockstep-$((6*7)) on $(hostname)\n');
    await shell.locator('.xterm-rows').getByText('lockstep-42 on hostA').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(root, 'test/ui/screenshots/consoles.png') });
  });

  it('removes the lab from the window', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Hosts' }).click();
    await page.getByRole('button', { name: 'Remove lab' }).click();
    // it asks first, naming the hosts it removes
    const dialog = page.getByRole('dialog', { name: 'Remove the virtual lab?' });
    expect(await dialog.getByTestId('destroys').innerText()).toContain('hostA and hostB');
    await dialog.getByRole('button', { name: 'Remove the lab' }).click();
    await page.getByTestId('lab-panel').and(page.locator('[data-state="down"]')).waitFor({ timeout: 60_000 });
  });
});
