// End to end in headless Chromium: upload a fixture image through the page, Generate, and read the library's caption.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Blip2Captioner } from '../../lib/captioner.js';
import { startServer } from '../../lib/serve/server.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const IMAGE = join(TINY, 'images', 'img1_rgb_40x72.jpg');
let captioner: Blip2Captioner;
let browser: Browser;
const servers: FastifyInstance[] = [];

beforeAll(async () => {
  captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
  captioner?.dispose();
});

async function open(names: string[]): Promise<{ page: Page; external: string[] }> {
  const { app, url } = await startServer({ models: names.map((name) => ({ name, captioner })), port: 0 });
  servers.push(app);
  const page = await browser.newPage();
  const external: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) external.push(r.url()); });
  await page.goto(url);
  return { page, external };
}

describe('demo page', () => {
  it('uploads an image, generates, and shows the library\'s caption (screenshot kept)', async () => {
    const { page, external } = await open(['blip2-tiny']);
    await page.setViewportSize({ width: 1200, height: 800 });
    await page.locator('#image').setInputFiles(IMAGE);
    await expect.poll(() => page.locator('#preview').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(40);
    await page.locator('#prompt').fill('a photo of');
    await page.locator('#max-new-tokens').fill('12');
    await page.locator('#num-beams').fill('2');
    await page.locator('#generate').click();
    await page.locator('.card .caption-text').waitFor();
    const [expected] = await captioner.caption([IMAGE], { prompt: 'a photo of', maxNewTokens: 12, numBeams: 2 });
    const shown = await page.locator('.card .caption-text').textContent();
    console.log(`page caption ${JSON.stringify(shown)}; library ${JSON.stringify(expected!.text)}`);
    expect(shown).toBe(expected!.text);
    expect(await page.locator('.card h2').textContent()).toBe('blip2-tiny');
    expect(await page.locator('#status').textContent()).toMatch(/^Done in \d+ ms \(decode \d+ ms, generate \d+ ms\)\.$/);
    expect(external).toEqual([]);
    const artefacts = resolve('test-artifacts');
    mkdirSync(artefacts, { recursive: true });
    await page.screenshot({ path: join(artefacts, 'demo.png'), fullPage: true });
    await page.close();
  });

  it('sampling with a seed gives the library\'s sampled caption; errors are shown', async () => {
    const { page } = await open(['blip2-tiny']);
    await page.locator('#image').setInputFiles(IMAGE);
    expect(await page.locator('#temperature').isDisabled()).toBe(true);
    await page.locator('#do-sample').check();
    await page.locator('#temperature').fill('0.7');
    await page.locator('#top-p').fill('0.8');
    await page.locator('#seed').fill('3');
    await page.locator('#generate').click();
    await page.locator('.card .caption-text').waitFor();
    const [expected] = await captioner.caption([IMAGE], { maxNewTokens: 20, numBeams: 1, doSample: true, temperature: 0.7, topP: 0.8, seed: 3 });
    expect(await page.locator('.card .caption-text').textContent()).toBe(expected!.text);
    await page.locator('#num-beams').fill('9');
    await page.locator('#generate').click();
    await expect.poll(() => page.locator('#status').textContent())
      .toBe('Error 400: Expected integer between 1 and 8 for numBeams but received 9 of type number');
    expect(await page.locator('#status').getAttribute('role')).toBe('alert');
    await page.close();
  });

  it('keyboard: Tab reaches every control in order and Enter on Generate submits', async () => {
    const { page } = await open(['blip2-tiny']);
    await page.locator('#image').setInputFiles(IMAGE);
    await page.locator('body').focus();
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.id ?? ''));
    }
    // the disabled sampling fields are skipped until "Sample" is ticked
    expect(order).toEqual(['image', 'prompt', 'max-new-tokens', 'num-beams', 'do-sample', 'generate']);
    // every control has an accessible name
    const labelled = await Promise.all([
      page.getByLabel('Image (choose a file or drop it here)').getAttribute('id'),
      page.getByLabel('Prompt (optional)').getAttribute('id'),
      page.getByLabel('Max new tokens').getAttribute('id'),
      page.getByLabel('Beams').getAttribute('id'),
      page.getByLabel('Sample (instead of greedy / beam search)').getAttribute('id'),
      page.getByRole('button', { name: 'Generate' }).getAttribute('id'),
    ]);
    expect(labelled).toEqual(order);
    await page.keyboard.press('Enter');
    await page.locator('.card .caption-text').waitFor();
    const [expected] = await captioner.caption([IMAGE], { maxNewTokens: 20, numBeams: 1 });
    expect(await page.locator('.card .caption-text').textContent()).toBe(expected!.text);
    await page.close();
  });

  it('several models: captions side by side on a wide screen, stacked and without sideways scrolling on a phone', async () => {
    const { page } = await open(['stage-1', 'stage-2']);
    await page.setViewportSize({ width: 1200, height: 800 });
    await page.locator('#image').setInputFiles(IMAGE);
    await page.locator('#generate').click();
    await expect.poll(() => page.locator('.card').count()).toBe(2);
    expect(await page.locator('.card h2').allTextContents()).toEqual(['stage-1', 'stage-2']);
    const [a, b] = await Promise.all([page.locator('.card').nth(0).boundingBox(), page.locator('.card').nth(1).boundingBox()]);
    expect(b!.y).toBe(a!.y);
    expect(b!.x).toBeGreaterThan(a!.x);
    await page.setViewportSize({ width: 375, height: 740 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBe(375);
    const [c, d] = await Promise.all([page.locator('.card').nth(0).boundingBox(), page.locator('.card').nth(1).boundingBox()]);
    expect(d!.x).toBe(c!.x);
    expect(d!.y).toBeGreaterThan(c!.y);
    await page.screenshot({ path: join(resolve('test-artifacts'), 'demo-phone.png'), fullPage: true });
    await page.close();
  });
});
