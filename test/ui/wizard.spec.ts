import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { pullThePlug } from '../helpers/pull-the-plug.js';
import { labEnv } from '../helpers/lab-env.js';
import { cli, root, startServer, stop } from '../helpers/processes.js';

/**
 * The whole Setup wizard in one flow, as a person would drive it, against a namespace lab
 * (no DRBD there): Discover → Preflight → Link → (reload, restart the app) → Mirror (full copy
 * instead) → Protect; then a Pull-the-plug drill from the Dashboard and its exported report.
 */
const PREFIX = 'lw';
const { env, home } = labEnv(PREFIX, '198.18.82');
let srv: Awaited<ReturnType<typeof startServer>> | undefined;
let chrome: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const shot = async (name: string) => {
  await page.locator('main').evaluate((m) => m.scrollTo(0, 0));
  await page.screenshot({ path: join(root, `test/ui/screenshots/${name}`) });
};
const json = <T>(args: string[]): T => {
  const r = cli([...args, '--json'], env);
  const out = JSON.parse(r.stdout) as { ok: boolean; value: T; error?: unknown };
  expect(out.ok, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(true);
  return out.value;
};
const nav = (name: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name, exact: true }).click();
const setupPage = () => page.getByTestId('setup-page');
/** waits until the wizard shows page `id` (generous: on a loaded machine the first status answers take a while) */
const onPage = async (id: string, timeout = 60_000) => {
  try {
    await page.locator(`[data-testid="setup-page"][data-page="${id}"]`).waitFor({ timeout });
  } catch (e) {
    await diagnose(`page-${id}`);
    throw e;
  }
};
/** the stepper: which pages are shown done */
const doneSteps = async () =>
  Object.fromEntries(
    await page.getByTestId('setup-step').evaluateAll((els) => els.map((e) => [e.getAttribute('data-page'), e.getAttribute('data-done') === 'true'])),
  ) as Record<string, boolean>;
const stepDone = (id: string) => page.locator(`[data-testid="setup-step"][data-page="${id}"][data-done="true"]`).waitFor();
const next = (label: string) =>
  setupPage()
    .getByRole('button', { name: `Next: ${label} →` })
    .click();
const netnsLeft = () =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith(`${PREFIX}-`));

/** Clicks Protect and watches the page until it shows the protected state or an error; notes whether the plan's progress was shown. */
async function protectFromThePage(): Promise<{ outcome: string; sawProgress: boolean }> {
  await setupPage().getByRole('button', { name: 'Protect the guest' }).click();
  await setupPage().getByTestId('error').first().waitFor({ state: 'detached', timeout: 15_000 });
  let sawProgress = false;
  for (const until = Date.now() + 300_000; Date.now() < until; await page.waitForTimeout(500)) {
    if (await page.getByTestId('protected').isVisible()) return { outcome: 'protected', sawProgress };
    // progress: the plan's steps while it runs
    if (await setupPage().getByTestId('plan').and(page.locator('[data-state="running"]')).isVisible()) sawProgress = true;
    const error = setupPage().getByTestId('error').first();
    if (await error.isVisible()) return { outcome: `error: ${await error.innerText()}`, sawProgress };
  }
  return { outcome: 'neither protected nor an error within 300 s', sawProgress };
}

/** What the page and the app say, printed when a step did not end as expected. */
async function diagnose(what: string): Promise<void> {
  const text = await page
    .locator('main')
    .innerText({ timeout: 5000 })
    .catch(() => '?');
  console.log(`--- ${what}: the window says:\n${text}`);
  const plans = cli(['tasks', 'list', '--json'], env).stdout;
  console.log(`--- last plan: ${plans ? JSON.stringify((JSON.parse(plans) as { value?: unknown[] }).value?.[0], null, 1) : '?'}`);
  console.log(`--- events:\n${cli(['events', 'list'], env).stdout.split('\n').slice(-40).join('\n')}`);
  await page.screenshot({ path: join(tmpdir(), `lockstep-wizard-failed-${what}.png`) }).catch(() => undefined);
}

beforeAll(async () => {
  cli(['lockstep', 'stop'], env);
  cli(['lab', 'down'], env);
  json(['lab', 'up']);
  srv = await startServer(env);
  chrome = await launchChromium();
  page = await chrome.browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page.setDefaultTimeout(60_000);
  await page.goto(srv.appUrl);
}, 240_000);
afterAll(async () => {
  await chrome?.close();
  if (srv) await stop(srv.child);
  cli(['lockstep', 'stop'], env);
  cli(['lab', 'down'], env);
  home.remove();
  expect(netnsLeft()).toEqual([]);
}, 180_000);

describe('the Setup wizard, start to finish, against the virtual lab', () => {
  it('Discover: opens on Discover, finds both lab hosts, and pins each key only after the user confirmed its fingerprint', async () => {
    await nav('Setup');
    await onPage('discover');
    expect(Object.values(await doneSteps())).toEqual([false, false, false, false, false]);
    await setupPage().getByRole('button', { name: 'Scan' }).click();
    const list = page.getByTestId('candidates');
    await list.locator('li').nth(1).waitFor({ timeout: 30_000 });
    expect(await list.locator('li').count()).toBe(2);
    const lab = json<{ hosts: { name: string; address: string; fingerprint: string }[] }>(['lab', 'status']);
    for (const h of lab.hosts) {
      const li = list.locator('li', { hasText: `${h.address}:22` });
      await li.getByRole('button', { name: 'Add' }).click();
      const fp = li.getByTestId('fingerprint');
      await fp.waitFor({ timeout: 30_000 });
      expect(await fp.textContent()).toBe(h.fingerprint);
      if (h.name === 'hostB') await shot('setup-discover.png');
      await li.getByRole('button', { name: 'Trust this key' }).click();
      await li.getByText('added', { exact: true }).waitFor({ timeout: 30_000 });
    }
    const pinned = json<{ name: string; fingerprint: string }[]>(['hosts', 'list']);
    expect(pinned.map((h) => [h.name, h.fingerprint]).sort()).toEqual(lab.hosts.map((h) => [h.name, h.fingerprint]).sort());
    await stepDone('discover');
    await next('Preflight');
  });

  it('Preflight: the verdict and each finding with its fix; DRBD is missing on namespace hosts', async () => {
    await onPage('preflight');
    await setupPage().getByRole('button', { name: 'Run preflight' }).click();
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 90_000 });
    expect(await verdict.getAttribute('data-tier')).toBe('lockstep');
    const fixes = await page.getByTestId('finding-fix').allTextContents();
    expect(fixes.length).toBeGreaterThan(0);
    const last = json<{ report: { findings: { id: string; level: string; what: string; fix: string }[] } }>(['preflight', 'last']);
    const drbd = last.report.findings.filter((f) => f.id === 'drbd-module' && f.level === 'fail');
    expect(drbd.length).toBeGreaterThan(0);
    for (const f of drbd) expect(fixes).toContain(f.fix);
    await expect.poll(async () => (await doneSteps()).preflight, { timeout: 20_000 }).toBe(true);
    await shot('setup-preflight.png');
    await next('Link');
  });

  it('Link: shows what will be done, wires the crossover with progress, and shows the measured RTT and bandwidth', async () => {
    await onPage('link');
    await page.getByTestId('preview-addresses').waitFor();
    const plan = setupPage().getByTestId('plan');
    await setupPage().getByRole('button', { name: 'Set up the link' }).click();
    // progress: the plan's steps while it runs
    await plan.waitFor({ timeout: 15_000 });
    expect(await plan.locator('li').count()).toBeGreaterThan(1);
    const picture = page.getByTestId('link-picture');
    await picture.waitFor({ timeout: 180_000 });
    const st = json<{ state: string; measured: { rttP50Ms: number; mibPerSec: number | null } | null; mtu: number }>(['link', 'status']);
    expect(st.state).toBe('up');
    expect(st.measured).not.toBeNull();
    expect(st.measured!.mibPerSec).not.toBeNull();
    const text = (await picture.textContent()) ?? '';
    expect(text).toContain(`${st.measured!.rttP50Ms.toFixed(2)} ms`);
    expect(text).toContain(`${Math.round(st.measured!.mibPerSec!)} MiB/s`);
    expect(text).toContain(`MTU ${st.mtu}`);
    await stepDone('link');
    await shot('setup-link.png');
  });

  it('is resumable: a reload, then a restarted app, land on Mirror with Discover, Preflight and Link shown done', async () => {
    const expectDone = { discover: true, preflight: true, link: true, mirror: false, protect: false };
    await page.reload();
    await onPage('mirror');
    await expect.poll(doneSteps, { timeout: 20_000 }).toEqual(expectDone);
    // the app process itself restarts: a new port and token, the same home
    await stop(srv!.child);
    srv = undefined;
    srv = await startServer(env);
    await page.goto(srv.appUrl);
    await nav('Setup');
    await onPage('mirror');
    await expect.poll(doneSteps, { timeout: 20_000 }).toEqual(expectDone);
    expect(await page.locator('[data-testid="setup-step"][data-page="mirror"] button').getAttribute('aria-current')).toBe('step');
  });

  it('Mirror: says honestly that these hosts have no DRBD, with the preflight’s reason, and goes on with a full copy', async () => {
    const box = page.getByTestId('mirror-unavailable');
    await box.waitFor({ timeout: 60_000 });
    expect(await box.getAttribute('data-continued')).toBe('false');
    const st = json<{ state: string; why: string; fix: string; hosts: { name: string }[] }>(['mirror', 'status']);
    expect(st.state).toBe('unavailable');
    const last = json<{ report: { findings: { id: string; level: string; what: string; fix: string }[] } }>(['preflight', 'last']);
    const why = (await page.getByTestId('mirror-why').textContent()) ?? '';
    for (const f of last.report.findings.filter((x) => x.id === 'drbd-module' && x.level === 'fail')) {
      expect(why).toContain(f.what);
      expect(await page.getByTestId('mirror-fix').textContent()).toContain(f.fix);
    }
    expect(await box.getByRole('heading').textContent()).toBe('DRBD is not available on hostA and hostB');
    expect(await page.getByTestId('full-copy').textContent()).toMatch(/FULL COPY.*hostA's disk is copied in full to hostB/s);
    // nothing that needs DRBD is offered
    expect(await setupPage().getByRole('button', { name: 'Mirror the disks' }).count()).toBe(0);
    await shot('setup-mirror.png');
    await box.getByRole('button', { name: 'Continue with a full copy' }).click();
    await page.getByTestId('mirror-continued').waitFor({ timeout: 60_000 });
    expect(json<{ continued: boolean }>(['mirror', 'status']).continued).toBe(true);
    await stepDone('mirror');
    await next('Protect');
  });

  it('Protect: says the disk is copied in full, starts lockstep with progress, and shows the protected state', async () => {
    await onPage('protect');
    expect(await page.getByTestId('disk-sync').textContent()).toContain('Full copy: no DRBD on this pair');
    const t0 = Date.now();
    let attempt = await protectFromThePage();
    if (attempt.outcome !== 'protected') {
      // the page shows the failed step with its error and offers Protect again, which a person would click
      await diagnose('protect');
      console.warn(`PROTECT FAILED ONCE (${attempt.outcome}); trying again from the page`);
      attempt = await protectFromThePage();
      if (attempt.outcome !== 'protected') await diagnose('protect-again');
    }
    expect(attempt.outcome).toBe('protected');
    expect(attempt.sawProgress, 'the running plan was shown with its steps').toBe(true);
    console.log(`protect took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(await page.getByTestId('protected').textContent()).toMatch(
      /Protected: primary on hostA, secondary in lockstep on hostB; \d+ checkpoints? so far\. Disks made identical by a full copy\./,
    );
    expect(json<{ state: string }>(['lockstep', 'status']).state).toBe('lockstep');
    await expect.poll(doneSteps, { timeout: 20_000 }).toEqual({ discover: true, preflight: true, link: true, mirror: true, protect: true });
    await shot('setup-protect.png');
  }, 650_000);

  it('Dashboard: Pull the plug (kill-primary-vm) shows the gap; the exported report is self-contained and carries the gap', async () => {
    let lastProbe = '';
    try {
      await nav('Dashboard');
      const headline = page.getByTestId('headline');
      await headline.and(page.locator('[data-tone="ok"]')).waitFor({ timeout: 60_000 });
      // the guest (booting inside COLO) must answer before the plug is pulled
      let answering = false;
      for (const until = Date.now() + 120_000; !answering && Date.now() < until;) {
        lastProbe = cli(['lab', 'client', 'http', '--seconds', '1', '--json'], env).stdout;
        answering = /"answers":\s*[1-9]/.test(lastProbe);
        if (!answering) await new Promise((r) => setTimeout(r, 1000));
      }
      expect(answering, 'the guest answers its clients').toBe(true);
      await page.getByLabel('Kill the primary VM').check();
      // it asks first, naming what it destroys; the result stays on the Dashboard until the user opens it
      const done = await pullThePlug(page, 150_000);
      await done.getByRole('button', { name: 'See the drill result →' }).click();
      const result = page.getByTestId('drill-result');
      await result.waitFor();
      expect(await result.getAttribute('data-verdict')).toBe('passed');
      const gap = Number(await page.getByTestId('longest-gap').textContent());
      expect(gap).toBeGreaterThan(0);
      await page.getByTestId('downtime-chart').waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export report' }).click()]);
      const html = readFileSync((await download.path())!, 'utf8');
      expect(download.suggestedFilename()).toMatch(/\.html$/);
      // self-contained: nothing is fetched from anywhere
      expect(html.match(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//gi)).toBeNull();
      expect(html.match(/url\(\s*["']?\s*(?:https?:)?\/\//gi)).toBeNull();
      expect(html).not.toMatch(/<link\b[^>]*rel=["']?stylesheet/i);
      expect(html).not.toMatch(/<script\b[^>]*\bsrc=/i);
      expect(html).toContain('<svg');
      expect(html).toContain(`longest gap a client saw: ${gap} ms`);
    } catch (e) {
      await diagnose('dashboard');
      console.log(`--- last client probe: ${lastProbe}`);
      console.log(`--- lockstep status: ${cli(['lockstep', 'status', '--json'], env).stdout}`);
      for (const [host, role] of [
        ['198.18.82.11', 'primary'],
        ['198.18.82.12', 'secondary'],
      ]) {
        const ssh = spawnSync(
          'ssh',
          [
            '-i',
            join(home.path, 'lab', PREFIX, 'id_ed25519'),
            '-o',
            'StrictHostKeyChecking=no',
            '-o',
            'UserKnownHostsFile=/dev/null',
            `root@${host}`,
            'tail',
            '-n',
            '25',
            `/run/lockstep/vm/${role}-serial.log`,
          ],
          { encoding: 'utf8', timeout: 20_000 },
        );
        console.log(`--- ${role} serial log:\n${ssh.stdout}${ssh.stderr}`);
      }
      throw e;
    }
  }, 420_000);
});
