// End to end in headless Chromium: upload a fixture image through the page, Generate, and read the library's caption.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Blip2Captioner } from '../../lib/captioner.js';
import { startServer, type CaptionerLike, type CreateServerOptions } from '../../lib/serve/server.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const IMAGE = join(TINY, 'images', 'img1_rgb_40x72.jpg');

// The DOM as far as the code run in the page (evaluate) uses it; the project's own types are Node's, not the browser's.
declare const document: {
  activeElement: { id: string } | null;
  documentElement: { scrollWidth: number };
  getElementById(id: string): { value: string } | null;
};
interface ImageElement { naturalWidth: number }
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

async function open(names: string[], options: Partial<CreateServerOptions> = {}): Promise<{ page: Page; external: string[] }> {
  const { app, url } = await startServer({ ...(names.length > 0 ? { models: names.map((name) => ({ name, captioner })) } : {}), port: 0, ...options });
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
    await expect.poll(() => page.locator('#preview').evaluate((img: ImageElement) => img.naturalWidth)).toBe(40);
    await page.locator('#prompt').fill('a photo of');
    await page.locator('#max-new-tokens').fill('12');
    expect(await page.locator('#max-new-tokens-value').textContent()).toBe('12');
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
    const [expected] = await captioner.caption([IMAGE], { maxNewTokens: 40, numBeams: 1, doSample: true, temperature: 0.7, topP: 0.8, seed: 3 });
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
    for (let i = 0; i < 11; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.id ?? ''));
    }
    // the disabled sampling fields are skipped until "Sample" is ticked
    expect(order).toEqual([
      'image', 'preset-paper', 'prompt', 'max-new-tokens', 'min-new-tokens', 'num-beams', 'num-return-sequences', 'length-penalty', 'no-repeat-ngram-size', 'do-sample', 'generate',
    ]);
    // every control has an accessible name
    const labelled = await Promise.all([
      page.getByLabel('Image (choose a file or drop it here)').getAttribute('id'),
      page.getByRole('button', { name: 'Paper demo settings' }).getAttribute('id'),
      page.getByLabel('Prompt (optional)').getAttribute('id'),
      page.getByLabel('Max new tokens').getAttribute('id'),
      page.getByLabel('Min new tokens').getAttribute('id'),
      page.getByLabel('Beams', { exact: true }).getAttribute('id'),
      page.getByLabel('Captions per model').getAttribute('id'),
      page.getByLabel('Length penalty').getAttribute('id'),
      page.getByLabel('No-repeat n-gram size').getAttribute('id'),
      page.getByLabel('Sample (instead of greedy / beam search)').getAttribute('id'),
      page.getByRole('button', { name: 'Generate' }).getAttribute('id'),
    ]);
    expect(labelled).toEqual(order);
    await page.keyboard.press('Enter');
    await page.locator('.card .caption-text').waitFor();
    const [expected] = await captioner.caption([IMAGE], { maxNewTokens: 40, numBeams: 1 });
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

  it('"Paper demo settings", by keyboard, sets the seed\'s demo options; Generate sends them and shows the library\'s caption', async () => {
    // what reaches the captioner, after the server's validation
    const received: object[] = [];
    const recording: CaptionerLike = {
      caption: (images, { signal: _signal, ...options } = {}) => { received.push(options); return captioner.caption(images, { ...options, onError: 'throw' }); },
    };
    const { page } = await open([], { models: [{ name: 'blip2-tiny', captioner: recording }] });
    await page.locator('#image').setInputFiles(IMAGE);
    await page.locator('body').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('preset-paper');
    await page.keyboard.press('Enter');
    const values = () => page.evaluate(() => ['prompt', 'max-new-tokens', 'min-new-tokens', 'num-beams', 'length-penalty', 'no-repeat-ngram-size']
      .map((id) => document.getElementById(id)!.value));
    // the seed's demo (issue 17): prompt "caption", 40 tokens, min_new_tokens 20, length_penalty 1.15,
    // no_repeat_ngram_size 3; beams untouched
    expect(await values()).toEqual(['caption', '40', '20', '1', '1.15', '3']);
    expect(await page.locator('#max-new-tokens-value').textContent()).toBe('40');
    expect(await page.locator('#status').textContent())
      .toBe('Paper demo settings: prompt "caption", max new tokens 40, min new tokens 20, length penalty 1.15, no-repeat n-gram size 3.');
    expect(await page.locator('#status').getAttribute('role')).toBe('status');
    await page.locator('#generate').focus();
    await page.keyboard.press('Enter');
    await page.locator('.card .caption-text').waitFor();
    expect(received).toEqual([{ prompt: 'caption', maxNewTokens: 40, numBeams: 1, minNewTokens: 20, lengthPenalty: 1.15, noRepeatNgramSize: 3 }]);
    const [expected] = await captioner.caption([IMAGE], { prompt: 'caption', maxNewTokens: 40, minNewTokens: 20, lengthPenalty: 1.15, noRepeatNgramSize: 3 });
    expect(await page.locator('.card .caption-text').textContent()).toBe(expected!.text);
    // Space presses the button as well; a server with lower limits gets the preset lowered to them
    const low = await open(['blip2-tiny'], { limits: { options: { maxNewTokens: 16, maxBeams: 8, maxPromptLength: 500 } } });
    await low.page.locator('#preset-paper').focus();
    await low.page.keyboard.press('Space');
    expect(await low.page.evaluate(() => ['max-new-tokens', 'min-new-tokens', 'no-repeat-ngram-size'].map((id) => document.getElementById(id)!.value)))
      .toEqual(['16', '16', '3']);
    expect(await low.page.locator('#max-new-tokens-value').textContent()).toBe('16');
    await page.close();
    await low.page.close();
  });

  it('captions per model: every sequence listed in its card, best first', async () => {
    const { page } = await open(['blip2-tiny']);
    await page.locator('#image').setInputFiles(IMAGE);
    await page.locator('#num-beams').fill('3');
    await page.locator('#num-return-sequences').fill('3');
    await page.locator('#max-new-tokens').fill('8');
    await page.locator('#generate').click();
    await page.locator('.card .sequences li').first().waitFor();
    const [expected] = await captioner.caption([IMAGE], { maxNewTokens: 8, numBeams: 3, numReturnSequences: 3 }) as unknown as [{ text: string; score: number }[]];
    expect(await page.locator('.card .sequences li').allTextContents())
      .toEqual(expected.map((s) => `${s.text === '' ? '(empty caption)' : s.text} (score ${s.score.toFixed(3)})`));
    expect(await page.locator('.card .sequences').getAttribute('aria-label')).toBe('3 sequences, best first');
    expect(await page.locator('.card .caption-text').textContent()).toBe(expected[0]!.text);
    await page.locator('#num-beams').fill('1');
    await page.locator('#generate').click();
    await expect.poll(() => page.locator('#status').textContent())
      .toBe('Error 400: Expected integer between 1 and 1 (greedy search returns one sequence; set numBeams or doSample) for numReturnSequences but received 3 of type number');
    await page.close();
  });

  it('withBase: the base model\'s caption beside the adapter\'s', async () => {
    const root = mkdtempSync(join(tmpdir(), 'blip2-page-'));
    try {
      const adapter = join(root, 'runs', 'x', 'stages', '1-lora', 'best');
      const c = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 });
      await c.model.addLora({ r: 2, alpha: 4 });
      await c.model.saveAdapter(adapter);
      c.dispose();
      const { page } = await open([], { modelDir: TINY_MODEL, adapters: [adapter], withBase: true, shareBase: true, loadOptions: { threads: 1 } });
      await page.setViewportSize({ width: 1200, height: 800 });
      await page.locator('#image').setInputFiles(IMAGE);
      await page.locator('#generate').click();
      await expect.poll(() => page.locator('.card').count()).toBe(2);
      expect(await page.locator('.card h2').allTextContents()).toEqual(['model', '1-lora']);
      const [a, b] = await Promise.all([page.locator('.card').nth(0).boundingBox(), page.locator('.card').nth(1).boundingBox()]);
      expect([b!.y, b!.x > a!.x]).toEqual([a!.y, true]);
      // the adapter's B is zero (PEFT's initialisation): both captions are the base model's
      const [expected] = await captioner.caption([IMAGE], { maxNewTokens: 40, numBeams: 1 });
      expect(await page.locator('.card .caption-text').allTextContents()).toEqual([expected!.text, expected!.text]);
      await page.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
