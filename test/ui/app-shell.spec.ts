import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { launchChromium } from '../helpers/browser.js';
import { cli, root, startServer, stop } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';

const home = tempDir();
let srv: Awaited<ReturnType<typeof startServer>>;
let chrome: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  srv = await startServer({ LOCKSTEP_HOME: home.path });
  chrome = await launchChromium();
  page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
});
afterAll(async () => {
  await chrome?.close();
  if (srv) await stop(srv.child);
  home.remove();
});

describe('the app in web mode (Chromium)', () => {
  it('loads, connects with the launch token and removes it from the address bar', async () => {
    await page.goto(srv.appUrl);
    await page.getByTestId('connection').and(page.locator('[data-state="open"]')).waitFor({ timeout: 15_000 });
    expect(page.url()).not.toContain('token=');
    expect(await page.getByRole('navigation', { name: 'Views' }).textContent()).toMatch(/Hosts.*Setup.*Dashboard.*Consoles.*Drills.*Events/s);
  });

  it('shows events live as they happen, including those from a CLI next to it', async () => {
    await page.getByRole('button', { name: 'Events' }).click();
    const log = page.getByTestId('event-log');
    await log.getByText('Web mode listening on').waitFor();
    const r = cli(['events', 'note', 'Hello from the CLI'], { LOCKSTEP_HOME: home.path });
    expect(r.code).toBe(0);
    await log.getByText('Hello from the CLI').waitFor({ timeout: 5000 });
    await page.screenshot({ path: join(root, 'test/ui/screenshots/events.png') });
  });

  it('searching the event log asks the whole history in SQLite, not only what the window holds', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api?token=${srv.token}`);
    await new Promise((r) => ws.once('open', r));
    const send = (i: number, message: string) => ws.send(JSON.stringify({ id: i, cmd: 'events.note', input: { message } }));
    send(0, 'needle in the haystack');
    for (let i = 1; i <= 520; i++) send(i, `filler ${i}`);
    await page.getByTestId('event-log').getByText('filler 520', { exact: true }).waitFor({ timeout: 20_000 });
    await page.reload();
    await page.getByRole('button', { name: 'Events' }).click();
    await page.getByTestId('event-log').getByText('filler 520', { exact: true }).waitFor();
    expect(await page.getByTestId('event-log').getByText('needle in the haystack').count()).toBe(0);
    await page.getByLabel('Search events').fill('needle');
    await page.getByTestId('event-log').getByText('needle in the haystack').waitFor({ timeout: 5000 });
    ws.close();
  });

  it('an idle window makes no request: the pair watcher in the core pushes its observations', async () => {
    const sent: string[] = [];
    let observed = 0;
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => sent.push(String(f.payload)));
      ws.on('framereceived', (f) => {
        if (String(f.payload).includes('"pair-observed"')) observed++;
      });
    });
    await page.reload();
    await page.getByTestId('connection').and(page.locator('[data-state="open"]')).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Dashboard' }).click();
    await page.waitForTimeout(3000); // the view reads its state once when it opens
    const before = sent.length;
    const observedBefore = observed;
    await page.waitForTimeout(10_000);
    expect(sent.slice(before), 'requests while idle').toEqual([]);
    expect(observed - observedBefore, 'pair-observed pushes in 10 s').toBeGreaterThanOrEqual(3);
  });

  it('a page without the token is told it is not authorised', async () => {
    const other = await chrome.browser.newPage();
    await other.goto(srv.url + '/');
    await other.getByTestId('connection').and(other.locator('[data-state="unauthorized"]')).waitFor({ timeout: 20_000 });
    await other.close();
  });
});
