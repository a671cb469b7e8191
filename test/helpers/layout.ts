/// <reference lib="dom" />
import type { Locator, Page } from 'playwright-core';
import { commands } from '../../src-main/contract/index.js';

/** What a layout check found wrong in the current view (empty: nothing). */
export interface LayoutProblems {
  horizontalScroll: string[];
  outOfView: string[];
  overlaps: string[];
}

/** Scroll widths beyond the visible width: the page, <main>, and any scroll box. */
export async function horizontalScroll(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const d = document.documentElement;
    if (d.scrollWidth > window.innerWidth + 1) out.push(`page ${d.scrollWidth} > ${window.innerWidth}`);
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('main, main *'))) {
      if (el.closest('.xterm')) continue;
      const cs = getComputedStyle(el);
      if ((cs.overflowX === 'auto' || cs.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1)
        out.push(`${el.tagName.toLowerCase()}.${el.className} ${el.scrollWidth} > ${el.clientWidth}`);
    }
    return out;
  });
}

/** Text boxes (one per text node line) that overlap another text box; xterm's rows and hidden text are left out. */
export async function overlappingText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type Box = { r: DOMRect; text: string; node: Node };
    const boxes: Box[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = (n.textContent ?? '').trim();
      const el = n.parentElement;
      if (!text || !el || el.closest('.xterm, title, style, script, option')) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || cs.opacity === '0' || cs.display === 'none') continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      for (const r of Array.from(range.getClientRects())) if (r.width > 1 && r.height > 1) boxes.push({ r, text: text.slice(0, 40), node: n });
    }
    const out: string[] = [];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        if (a.node === b.node) continue;
        const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
        const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
        // a pixel or two is line-height rounding; real overprinting covers a good part of the smaller box
        if (w > 2 && h > Math.min(a.r.height, b.r.height) * 0.35) out.push(`"${a.text}" overlaps "${b.text}"`);
      }
    return out;
  });
}

/** Locators whose box is not fully inside the viewport (with <main> scrolled to the top). */
export async function outOfView(page: Page, primary: Locator[]): Promise<string[]> {
  await page.locator('main').evaluate((m) => m.scrollTo(0, 0));
  const vp = page.viewportSize()!;
  const out: string[] = [];
  for (const l of primary) {
    const b = await l.boundingBox();
    const name = `${(await l.textContent().catch(() => '?'))?.trim().slice(0, 40)}`;
    if (!b) out.push(`${name}: not shown`);
    else if (b.x < 0 || b.y < 0 || b.x + b.width > vp.width + 0.5 || b.y + b.height > vp.height + 0.5)
      out.push(`${name}: at ${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}×${Math.round(b.height)} outside ${vp.width}×${vp.height}`);
  }
  return out;
}

export async function layoutProblems(page: Page, primary: Locator[]): Promise<LayoutProblems> {
  return { horizontalScroll: await horizontalScroll(page), outOfView: await outOfView(page, primary), overlaps: await overlappingText(page) };
}

const COMMAND_IDS = Object.keys(commands);

/** Internal words in an error shown in the window: command ids, step ids, CLI commands or flags outside "or from a terminal". */
export function internalWords(errorText: string, terminalText: string[]): string[] {
  let t = errorText;
  for (const x of terminalText) t = t.replace(x, '');
  const found: string[] = COMMAND_IDS.filter((id) => t.includes(id));
  for (const re of [/\bstep [a-z]+-[a-z-]+/g, /\blockstep [a-z]+/g, /(^|\s)--[a-z][a-z-]+/g]) found.push(...(t.match(re) ?? []));
  return found;
}

/** Every error box shown now, with the internal words each contains. */
export async function errorsWithInternalWords(page: Page): Promise<{ text: string; internal: string[] }[]> {
  const out: { text: string; internal: string[] }[] = [];
  for (const e of await page.getByTestId('error').all()) {
    if (!(await e.isVisible())) continue;
    const text = await e.innerText();
    const terminal = await e.getByTestId('terminal-fix').allInnerTexts();
    out.push({ text, internal: internalWords(text, terminal) });
  }
  return out;
}
