import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { pullThePlug } from '../helpers/pull-the-plug.js';
import { labEnv } from '../helpers/lab-env.js';
import { cli, root, startServer, stop } from '../helpers/processes.js';

const { env, home } = labEnv('lv', '198.18.87');
let srv: Awaited<ReturnType<typeof startServer>>;
let chrome: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const nav = (name: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name, exact: true }).click();

beforeAll(async () => {
  cli(['lab', 'down'], env);
  expect(JSON.parse(cli(['lab', 'up', '--json'], env).stdout).ok).toBe(true);
  expect(JSON.parse(cli(['hosts', 'add-lab', '--json'], env).stdout).ok).toBe(true);
  srv = await startServer(env);
  chrome = await launchChromium();
  page = await chrome.browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await page.goto(srv.appUrl);
});
afterAll(async () => {
  await chrome?.close();
  if (srv) await stop(srv.child);
  cli(['lockstep', 'stop'], env);
  cli(['lab', 'down'], env);
  home.remove();
});

describe('protect, watch and pull the plug from the window', () => {
  it('Setup → Protect starts lockstep; the Dashboard says the guest is protected', async () => {
    await nav('Setup');
    await page.getByRole('button', { name: /Protect$/ }).click();
    await page.getByRole('button', { name: 'Protect the guest' }).click();
    // protect returns once the guest, booting inside COLO, answers through the pair (20–60 s under TCG)
    await page.getByTestId('protected').waitFor({ timeout: 200_000 });
    await nav('Dashboard');
    const headline = page.getByTestId('headline');
    await headline.and(page.locator('[data-tone="ok"]')).waitFor({ timeout: 20_000 });
    expect(await headline.textContent()).toContain('Protected — a host can fail and the guest keeps running');
    expect(await page.getByTestId('topology-host').evaluateAll((els) => els.map((e) => e.getAttribute('data-role')))).toEqual(['primary', 'secondary']);
    // wait until the guest (booting inside COLO) answers before pulling the plug
    for (let i = 0; i < 40; i++) {
      const r = JSON.parse(cli(['lab', 'client', 'http', '--seconds', '0.5', '--json'], env).stdout) as { value: { answers: number } };
      if (r.value.answers > 0) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    await page.waitForTimeout(4500); // two status polls: the checkpoint charts get points
    // the host agents are not deployed: the panel says what that means and offers to deploy them
    expect(await page.getByTestId('agents-state').textContent()).toContain('Not deployed: without the app running, nothing fails over.');
    // offered while the pair is in lockstep: a secondary that protect's serving check found stalled is
    // replaced first (the pair is briefly not in lockstep, the button disabled meanwhile)
    await page.locator('button:enabled', { hasText: 'Deploy the agents' }).waitFor({ timeout: 150_000 });
    expect(await page.getByRole('button', { name: 'Deploy the agents' }).isEnabled()).toBe(true);
    await page.screenshot({ path: join(root, 'test/ui/screenshots/dashboard.png'), fullPage: true });
  }, 300_000);

  it('Consoles: both VMs’ serial consoles side by side take typing', async () => {
    await nav('Consoles');
    for (const side of ['primary', 'secondary']) {
      const con = page.getByRole('region', { name: `Guest — ${side} VM` });
      await con.and(page.locator('[data-state="open"]')).waitFor({ timeout: 20_000 });
      // the secondary is a replica: a checkpoint may overwrite keys it had not echoed yet, so type again if needed
      let seen = false;
      for (let attempt = 1; attempt <= 4 && !seen; attempt++) {
        await con.locator('.xterm').click();
        await page.keyboard.type(`echo ${side}-$((20+${attempt * 11}))\n`);
        seen = await con
          .locator('.xterm-rows')
          .getByText(`${side}-${20 + attempt * 11}`)
          .waitFor({ timeout: 8000 })
          .then(
            () => true,
            () => false,
          );
      }
      expect(seen, `${side} console echoed what was typed`).toBe(true);
    }
    await page.screenshot({ path: join(root, 'test/ui/screenshots/consoles-both.png') });
    await nav('Dashboard');
  });

  it('the Pull the plug button (kill-primary-vm) shows the expected outcome first, then the drill result with the gap', async () => {
    await page.getByLabel('Kill the primary VM').check();
    expect(await page.getByTestId('expected').textContent()).toContain('The secondary takes over');
    // it asks first, naming what it destroys; the result stays on the Dashboard until the user opens it
    const done = await pullThePlug(page, 180_000);
    await done.getByRole('button', { name: 'See the drill result →' }).click();
    const result = page.getByTestId('drill-result');
    await result.waitFor({ timeout: 180_000 }); // the drill arms the host agents first
    expect(await result.getAttribute('data-verdict')).toBe('passed');
    expect(Number(await page.getByTestId('longest-gap').textContent())).toBeGreaterThan(0);
    await page.getByTestId('downtime-chart').waitFor();
    await page.screenshot({ path: join(root, 'test/ui/screenshots/drill-result.png') });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export report' }).click()]);
    const file = await download.path();
    const html = readFileSync(file!, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('PASSED');
  }, 240_000);

  it('Consoles: the survivor’s serial console takes typing', async () => {
    await nav('Consoles');
    const con = page.getByRole('region', { name: 'Guest — primary VM' });
    await con.and(page.locator('[data-state="open"]')).waitFor({ timeout: 20_000 });
    await con.locator('.xterm').click();
    await page.keyboard.type('echo typed-$((40+2))\n');
    await con.locator('.xterm-rows').getByText('typed-42').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(root, 'test/ui/screenshots/consoles-vm.png') });
  });
});
