import type { Locator, Page } from 'playwright-core';

/** refusals that only mean "not now": the pair changed between the click and the confirmation */
const NOT_NOW = /re-protect is running|still starting|output does not reach the comparer/;

/**
 * Pulls the plug from the Dashboard as a person would: the button is pressed once it can be (Playwright
 * waits while it is disabled, e.g. during a re-protect), the dialog is confirmed, and the drill's end is
 * awaited. When the app refuses with "not now" (a re-protect began between the click and the
 * confirmation), the person waits for the button and presses it once more; any other refusal fails
 * at once with the window's words. Returns the "drill done" line.
 */
export async function pullThePlug(page: Page, timeoutMs: number): Promise<Locator> {
  const plug = page.getByTestId('plug');
  for (let attempt = 1; ; attempt++) {
    await plug.getByRole('button', { name: 'Pull the plug' }).click({ timeout: 120_000 });
    await page.getByRole('dialog').getByRole('button', { name: 'Pull the plug' }).click();
    const done = plug.getByTestId('drill-done');
    const refused = plug.getByTestId('error');
    await done.or(refused).first().waitFor({ timeout: timeoutMs });
    if (await done.isVisible()) return done;
    const words = await refused.innerText();
    if (attempt > 1 || !NOT_NOW.test(words)) throw new Error(`the drill was refused: ${words}`);
    console.warn(`Pull the plug refused for now (${words.replace(/\s+/g, ' ')}); waiting for the button and pressing it again`);
  }
}
