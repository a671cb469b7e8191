import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { VmInspection } from '../../src-main/contract/index.js';
import { launchChromium } from '../helpers/browser.js';
import { labEnv } from '../helpers/lab-env.js';
import { horizontalScroll, overlappingText } from '../helpers/layout.js';
import { cli, root, startServer, stop } from '../helpers/processes.js';

/**
 * The wizard's Protect page offers which VM to protect (issue 21), walked in Chromium against a
 * namespace lab: the demo guest, and a VM on hostA read over SSH from libvirt's own test driver
 * (test:///default: the real virsh, no daemon), its details and findings as `vm inspect` gives them.
 * Reads only: nothing is protected here (lockstep-view.spec.ts and wizard.spec.ts run protect).
 */
const PREFIX = 'pv';
const { env, home } = labEnv(PREFIX, '198.18.68');
let srv: Awaited<ReturnType<typeof startServer>> | undefined;
let chrome: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const shot = (name: string) => page.screenshot({ path: join(root, `test/ui/screenshots/${name}`) });
const json = <T>(args: string[]): T => {
  const r = cli([...args, '--json'], env);
  const out = JSON.parse(r.stdout) as { ok: boolean; value: T };
  expect(out.ok, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(true);
  return out.value;
};
const setupPage = () => page.getByTestId('setup-page');
const protectButton = () => setupPage().getByRole('button', { name: /^Protect (the guest|this VM)$/ });

beforeAll(async () => {
  cli(['lab', 'down'], env);
  json(['lab', 'up']);
  json(['hosts', 'add-lab']);
  srv = await startServer(env);
  chrome = await launchChromium();
  page = await chrome.browser.newPage({ viewport: { width: 1280, height: 1400 } });
  page.setDefaultTimeout(60_000);
  await page.goto(srv.appUrl);
}, 240_000);
afterAll(async () => {
  await chrome?.close();
  if (srv) await stop(srv.child);
  cli(['lab', 'down'], env);
  home.remove();
  expect(
    execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith(`${PREFIX}-`)),
  ).toEqual([]);
}, 180_000);

describe('Setup → Protect: which VM', () => {
  it('the demo guest is the default choice, and Protect is offered for it', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Setup', exact: true }).click();
    await page.getByRole('button', { name: /Protect$/ }).click();
    await page.locator('[data-testid="setup-page"][data-page="protect"]').waitFor();
    expect(await setupPage().getByRole('radio', { name: 'the demo guest' }).isChecked()).toBe(true);
    await setupPage().getByTestId('vm-demo').waitFor();
    expect(await protectButton().textContent()).toBe('Protect the guest');
    expect(await protectButton().isEnabled()).toBe(true);
    await shot('setup-protect-demo.png');
  });

  it("a VM on hostA: libvirt's test driver lists “test”; its details and findings are the app's own reading, and Protect says why not", async () => {
    await setupPage().getByRole('radio', { name: 'a VM on hostA' }).click();
    expect(await protectButton().isDisabled()).toBe(true);
    const uri = setupPage().getByLabel('libvirt connection');
    expect(await uri.inputValue()).toBe('qemu:///system');
    await uri.fill('test:///default');
    await setupPage().getByRole('button', { name: 'List VMs on hostA' }).click();
    const domains = setupPage().getByTestId('vm-domains');
    await domains.waitFor();
    expect((await domains.innerText()).replace(/\s+/g, ' ').trim()).toBe('test running');
    await domains.getByRole('radio', { name: /test/ }).check();
    const inspection = setupPage().getByTestId('vm-inspection');
    await inspection.waitFor({ timeout: 90_000 });

    // what the window shows is what `vm inspect` reads over SSH with the real virsh
    const ins = json<VmInspection>(['vm', 'inspect', 'hostA', '--peer', 'hostB', '--domain', 'test', '--connect', 'test:///default']);
    const details = await setupPage().getByTestId('vm-details').innerText();
    for (const s of [`${ins.vm.memoryKiB / 1024} MiB`, ins.vm.disks[0]!.path!, ins.vm.nics[0]!.mac!, 'BIOS']) expect(details).toContain(s);
    expect(await setupPage().getByTestId('vm-verdict').getAttribute('data-tier')).toBe(ins.verdict.tier);
    expect((await setupPage().getByTestId('finding-fix').allTextContents()).sort()).toEqual(ins.findings.map((f) => f.fix).sort());
    expect(ins.findings.map((f) => f.id)).toContain('nic-libvirt-network');

    // the domain runs (and may be refused): Protect is not offered, and the page says why
    expect(await protectButton().textContent()).toBe('Protect this VM');
    expect(await protectButton().isDisabled()).toBe(true);
    const why = await setupPage().getByTestId('protect-blocked').innerText();
    expect(why).toMatch(ins.findings.some((f) => f.severity === 'refuse') ? /^Lockstep cannot carry test as it is: / : /^test is running: shut it down first/);
    await shot('setup-protect-libvirt.png');
    // the details' long paths and the findings' fixes wrap in a small window
    await page.setViewportSize({ width: 1024, height: 640 });
    await page.waitForTimeout(200);
    expect({ scroll: await horizontalScroll(page), overlaps: await overlappingText(page) }).toEqual({ scroll: [], overlaps: [] });
  }, 180_000);

  it('a disk image on hostA: a real qcow2 read with qemu-img over SSH; Protect is offered once it is checked', async () => {
    const image = join(home.path, 'web1.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '64M']);
    await page.setViewportSize({ width: 1280, height: 1400 });
    await setupPage().getByRole('radio', { name: 'a disk image on hostA' }).click();
    await setupPage().getByLabel('Image path on hostA').fill(image);
    await setupPage().getByLabel('Memory (MiB)').fill('256');
    expect(await setupPage().getByTestId('protect-blocked').innerText()).toMatch(/^Check the image first/);
    expect(await protectButton().isDisabled()).toBe(true);
    await setupPage().getByRole('button', { name: 'Check the image' }).click();
    await setupPage().getByTestId('vm-inspection').waitFor({ timeout: 90_000 });
    const ins = json<VmInspection>(['vm', 'inspect', 'hostA', '--peer', 'hostB', '--disk', image, '--memory', '256', '--cpus', '1']);
    expect(ins.vm.disks[0]).toMatchObject({ format: 'qcow2', virtualSizeBytes: 64 * 1024 * 1024 });
    const details = await setupPage().getByTestId('vm-details').innerText();
    for (const t of ['256 MiB', `${image} — qcow2, file`, '64 MiB']) expect(details).toContain(t);
    expect(await setupPage().getByTestId('vm-verdict').getAttribute('data-tier')).toBe(ins.verdict.tier);
    expect((await setupPage().getByTestId('finding-fix').allTextContents()).sort()).toEqual(ins.findings.map((f) => f.fix).sort());
    // a plain qcow2 is carried (converted to a raw copy): Protect is offered, nothing said against it
    expect(ins.verdict.tier).toBe('lockstep');
    expect(await protectButton().isEnabled()).toBe(true);
    expect(await setupPage().getByTestId('protect-blocked').count()).toBe(0);
    await shot('setup-protect-image.png');
  }, 120_000);
});
