import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { errorsWithInternalWords, layoutProblems } from '../helpers/layout.js';
import { labEnv } from '../helpers/lab-env.js';
import { cli, root, startServer, stop } from '../helpers/processes.js';

/**
 * The window a newcomer meets, walked once against one namespace lab: lab → hosts → preflight → link →
 * protect → dashboard → pull the plug → drills → consoles → events → booth. Every view is checked at
 * 1024×640 and at 1280×800: no horizontal scrollbar, the primary actions in the viewport, no text box
 * over another; every destructive action asks first (and is refused while it would break protection);
 * no error shown carries an internal command id.
 */
const { env, home } = labEnv('ln', '198.18.95');
const SIZES = [
  { width: 1024, height: 640 },
  { width: 1280, height: 800 },
] as const;
const SHOTS = join(root, 'test/ui/screenshots/newcomer');
let srv: Awaited<ReturnType<typeof startServer>>;
let chrome: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
/** every error box seen during the walk, to prove the internal-word check ran on real errors */
const errorsSeen = new Set<string>();

const nav = (name: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name, exact: true }).click();
const button = (name: string | RegExp) => page.getByRole('button', { name });
const dialog = () => page.getByTestId('confirm-dialog');
const stepper = (label: string) => page.getByRole('list', { name: 'Setup steps' }).getByRole('button', { name: label });

/** The view at both sizes: layout holds; a screenshot of each. */
async function checkView(name: string, primary: () => Locator[]): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.waitForTimeout(200);
    const p = await layoutProblems(page, primary());
    expect(p, `${name} at ${size.width}×${size.height}`).toEqual({ horizontalScroll: [], outOfView: [], overlaps: [] });
    await page.screenshot({ path: join(SHOTS, `${name}-${size.width}x${size.height}.png`) });
  }
  await page.setViewportSize(SIZES[0]);
}

/** No error shown contains a command id, a step id or a CLI command outside "or from a terminal". */
async function errorsInWindowWords(): Promise<void> {
  for (const e of await errorsWithInternalWords(page)) {
    errorsSeen.add(e.text);
    expect(e.internal, e.text).toEqual([]);
  }
}

/** Clicks a destructive button: it must ask first, naming what it destroys (or refusing with the safe order). */
async function asksFirst(b: Locator, expected: { refused: boolean; names: RegExp }): Promise<Locator> {
  await b.click();
  const d = dialog();
  await d.waitFor({ timeout: 5000 });
  expect(await d.getAttribute('data-refused')).toBe(String(expected.refused));
  expect(await d.innerText()).toMatch(expected.names);
  return d;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  cli(['lockstep', 'stop'], env);
  cli(['lab', 'down'], env);
  srv = await startServer(env);
  chrome = await launchChromium();
  page = await chrome.browser.newPage({ viewport: SIZES[0], acceptDownloads: true });
  page.setDefaultTimeout(30_000);
  await page.goto(srv.appUrl);
}, 120_000);
afterAll(async () => {
  await chrome?.close();
  if (srv) await stop(srv.child);
  cli(['lockstep', 'stop'], env);
  cli(['lab', 'down'], env);
  home.remove();
}, 120_000);

describe('the window a newcomer meets, at 1024×640 and 1280×800', () => {
  it('Hosts: empty, it offers the next step; the lab comes up; Forget asks first', async () => {
    await nav('Hosts');
    await checkView('hosts-empty', () => [button('Start virtual lab')]);
    await button('Start virtual lab').click();
    await page.getByTestId('lab-panel').and(page.locator('[data-state="up"]')).waitFor({ timeout: 90_000 });
    const addLab = page.getByTestId('no-hosts').getByRole('button', { name: "Add the virtual lab's hosts" });
    await checkView('hosts-lab', () => [addLab]);
    await addLab.click();
    await page.getByTestId('host-list').locator('tbody tr').nth(1).getByText('hostB').waitFor();
    const d = await asksFirst(button('Forget hostB'), { refused: false, names: /hostB \(198\.18\.95\.\d+:22\).*pinned host key SHA256:/s });
    await d.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByTestId('host-list').locator('tbody tr').count()).toBe(2);
    await checkView('hosts-added', () => [button('Go on in Setup →'), button('Remove lab')]);
  });

  it('Discover: bad input is named by its field and button; a plain address is scanned; none found says why', async () => {
    await nav('Setup');
    await stepper('Discover').click();
    const net = page.getByLabel('Network to scan');
    await net.fill('10.0.0.0/8');
    await button('Scan').click();
    const err = page.getByTestId('error').first();
    await err.waitFor();
    expect(await err.innerText()).toContain('“Network to scan” (Scan): must be');
    await errorsInWindowWords();
    await net.fill('198.18.95.250');
    await button('Scan').click();
    await page.getByTestId('found').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('found').innerText()).toMatch(/Found 0 SSH host\(s\) in [\d.]+ s \(1 address probed\)/);
    expect(await page.getByTestId('why-none').innerText()).toMatch(/no answer on port 22|unreachable/);
    // add by address: a bad address is named by its field
    await page.getByLabel('Host address').fill('bad host!');
    await button('Add host').click();
    await page.getByTestId('error').first().waitFor();
    expect(await page.getByTestId('error').first().innerText()).toContain('“Host address” (Add host)');
    await errorsInWindowWords();
    await checkView('setup-discover', () => [button('Scan'), net]);
  });

  it('Preflight and Link: the verdict; an overlapping link network is refused with a free one; Remove the link asks first', async () => {
    await stepper('Preflight').click();
    await button('Run preflight').click();
    await page.getByTestId('verdict').waitFor({ timeout: 120_000 });
    // the verdict's counts are the findings shown under it
    const findings = page.getByTestId('findings');
    const fails = await findings.locator('li[data-level="fail"]').count();
    const warns = await findings.locator('li[data-level="warn"]').count();
    expect(await page.getByTestId('verdict-counts').innerText()).toMatch(new RegExp(`^${fails} ✘ to fix.* · ${warns} ! warnings? to read$`));
    await errorsInWindowWords();
    await checkView('setup-preflight', () => [button('Run preflight again')]);
    await stepper('Link').click();
    await button('Set up the link').click();
    await page.getByTestId('link-picture').waitFor({ timeout: 180_000 });
    // the lab's own network as the link network: refused, and the suggested one is not on the lab's network
    await page.getByLabel('Link network').fill('198.18.95.0/30');
    await button('Check again').click();
    const err = page.getByTestId('error').first();
    await err.waitFor({ timeout: 60_000 });
    const text = await err.innerText();
    expect(text).toContain('overlaps');
    const suggested = (text.match(/\d+\.\d+\.\d+\.\d+\/\d+/g) ?? []).filter((c) => c !== '198.18.95.0/30' && !c.startsWith('198.18.95.0/24'));
    expect(suggested.length).toBeGreaterThan(0);
    for (const c of suggested) expect(c.startsWith('198.18.95.'), `suggested ${c}`).toBe(false);
    await errorsInWindowWords();
    await page.getByLabel('Link network').fill('10.99.0.0/30');
    const d = await asksFirst(button('Remove the link'), { refused: false, names: /hostA.*hostB/s });
    await d.getByRole('button', { name: 'Cancel' }).click();
    await checkView('setup-link', () => [button('Check again'), button('Remove the link')]);
  }, 400_000);

  it('Mirror and Protect: goes on without DRBD, protects, and the wizard ends with a way on to the Dashboard', async () => {
    await stepper('Mirror').click();
    await button('Continue with a full copy').click();
    await page.getByTestId('mirror-continued').waitFor({ timeout: 60_000 });
    await stepper('Protect').click();
    await button('Protect the guest').click();
    await page.getByTestId('protected').waitFor({ timeout: 300_000 });
    await errorsInWindowWords();
    const onward = page.getByTestId('setup-finished').getByRole('button', { name: 'Go to the Dashboard →' });
    await checkView('setup-protect', () => [onward]);
    await onward.click();
    await page.getByTestId('headline').and(page.locator('[data-tone="ok"]')).waitFor({ timeout: 30_000 });
  }, 400_000);

  it('while protected, Remove lab, Forget and Remove the link are refused with the safe order', async () => {
    await nav('Hosts');
    for (const [b, names] of [
      [button('Remove lab'), /kill both VMs.*Stop the guest/s],
      [button('Forget hostA'), /hostA runs the primary VM.*Stop the guest/s],
    ] as const) {
      const d = await asksFirst(b, { refused: true, names });
      expect(await d.getByRole('button', { name: 'Stop the guest now' }).isVisible()).toBe(true);
      await page.keyboard.press('Escape');
      await d.waitFor({ state: 'detached' });
    }
    expect(await page.getByTestId('lab-panel').getAttribute('data-state')).toBe('up');
    await nav('Setup');
    await stepper('Link').click();
    const d = await asksFirst(button('Remove the link'), { refused: true, names: /runs in lockstep over this link.*Stop the guest/s });
    await d.getByRole('button', { name: 'Cancel' }).click();
    expect(JSON.parse(cli(['link', 'status', '--json'], env).stdout).value.state).toBe('up');
    await nav('Dashboard');
  });

  it('Dashboard: Pull the plug asks, shows phase and seconds, stays on the Dashboard; Drills explain every number', async () => {
    await checkView('dashboard', () => [button('Pull the plug'), button('Stop the guest')]);
    for (let i = 0; i < 60; i++) {
      const r = JSON.parse(cli(['lab', 'client', 'http', '--seconds', '0.5', '--json'], env).stdout) as { value: { answers: number } };
      if (r.value.answers > 0) break;
      await page.waitForTimeout(1000);
    }
    const d = await asksFirst(button('Pull the plug'), { refused: false, names: /primary VM on hostA \(kill -9/ });
    await d.getByRole('button', { name: 'Pull the plug' }).click();
    await page.getByTestId('drill-progress').waitFor();
    await page.waitForTimeout(1500);
    expect(await page.getByTestId('drill-seconds').innerText()).toMatch(/^\d+ s$/);
    expect(await page.getByTestId('drill-phase').innerText()).toMatch(/baseline|Fault injected|Watching|Checking/);
    await checkView('dashboard-drilling', () => [page.getByTestId('drill-progress')]);
    const done = page.getByTestId('drill-done');
    await done.waitFor({ timeout: 150_000 });
    expect(await page.locator('nav [aria-current="page"]').innerText()).toBe('Dashboard');
    await errorsInWindowWords();
    await done.getByRole('button', { name: 'See the drill result →' }).click();
    const result = page.getByTestId('drill-result');
    await result.waitFor();
    expect(await result.getAttribute('data-verdict')).toBe('passed');
    expect(await page.getByTestId('x-axis-label').textContent()).toBe('time since the drill started (s)');
    expect(await page.getByTestId('y-axis-label').textContent()).toBe('answer time (ms)');
    expect(await result.locator('.explain').count()).toBeGreaterThanOrEqual(4);
    await checkView('drills', () => [button('Export report')]);
  }, 300_000);

  it('Consoles say which host they show; Events say when a search matches nothing', async () => {
    await nav('Consoles');
    const shows = page.getByRole('region', { name: 'Guest — primary VM' }).getByTestId('console-shows');
    await expect.poll(() => shows.innerText(), { timeout: 30_000 }).toMatch(/^shows hostB — primary VM$/);
    await checkView('consoles', () => [shows, page.getByLabel('Host for a shell')]);
    await nav('Events');
    await page.getByLabel('Search events').fill('no-such-thing-happened');
    await expect.poll(() => page.getByTestId('events-empty').innerText(), { timeout: 10_000 }).toContain('No event matches “no-such-thing-happened”.');
    await checkView('events', () => [page.getByLabel('Search events'), button('Clear the search')]);
    await button('Clear the search').click();
  });

  it('Booth: the interval is bounded and applied only on Start (which asks); exit in view and on Esc', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Booth mode' }).click();
    const field = page.getByLabel('Drill every … minutes');
    for (const bad of ['0.01', '-5', '99999']) {
      await field.fill(bad);
      await button('Start the loop…').click();
      expect(await page.getByTestId('error').first().innerText()).toContain('must be a whole number from 1 to 120');
      expect(await dialog().count()).toBe(0);
    }
    await errorsInWindowWords();
    await field.fill('5');
    await checkView('booth', () => [button('Leave booth mode'), button('Start the loop…')]);
    const d = await asksFirst(button('Start the loop…'), { refused: false, names: /every 5 minute\(s\): the primary VM on hostB is killed/ });
    await d.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByTestId('loop-state').count()).toBe(0);
    await page.keyboard.press('Escape');
    await page.getByRole('navigation', { name: 'Views' }).waitFor();
    expect(await page.locator('nav [aria-current="page"]').innerText()).toBe('Dashboard');
  });

  it('Stop the guest asks and stops both VMs; then Remove lab asks and removes it', async () => {
    const d = await asksFirst(button('Stop the guest'), { refused: false, names: /only VM \(the survivor\) on hostB/ });
    await d.getByRole('button', { name: 'Stop the guest' }).click();
    await button('Start the guest (protected)').waitFor({ timeout: 60_000 });
    await checkView('dashboard-stopped', () => [button('Start the guest (protected)')]);
    await nav('Hosts');
    const r = await asksFirst(button('Remove lab'), { refused: false, names: /hostA and hostB/ });
    await r.getByRole('button', { name: 'Remove the lab' }).click();
    await page.getByTestId('lab-panel').and(page.locator('[data-state="down"]')).waitFor({ timeout: 60_000 });
    await errorsInWindowWords();
    // the walk met real errors, and each was in the window's words
    expect(errorsSeen.size).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
