// The built-in benchmark, shrunken (--quick scale), in its default design: every part runs end to end (SCST on an
// image pool of its own, as a second run folder that starts from the augmented stage's adapter), each stage is scored
// on the test split, and report.html renders in headless Chromium with the table and the charts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { QUICK_SCALE, runSynthBenchmark, type SynthBenchmarkResult } from '../../lib/synth/benchmark.js';
import { TINY_MODEL } from '../helpers/paths.js';
import type { NoiseReference } from '../../lib/synth/noise.js';

// An image element as far as the code run in the page (evaluate) uses it; the project's own types are Node's, not the
// browser's.
interface ImageElement { naturalWidth: number }

// a reference for the quick scale (the shipped one is a full-scale sweep's): SCST's difference has none
const REFERENCE: NoiseReference = {
  source: 'bench --quick --seeds 3 --pretrain-seeds 1', cpu: 'a CPU', date: '2026-01-02', split: 'test',
  design: { scale: 'quick', trainViews: 'all', scstPool: 400 },
  differences: [
    { stage: 'LoRA', over: 'zero-shot', sd: 0.1, n: 3 },
    { stage: 'LoRA + DA', over: 'LoRA', sd: 0.1, n: 3 },
    { stage: 'SCST, per-batch CIDEr (ablation)', over: 'LoRA + DA', sd: 0.1, n: 3 },
  ],
};

let root: string;
let result: SynthBenchmarkResult;
let browser: Browser;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-bench-'));
  result = await runSynthBenchmark({ outDir: root, scale: QUICK_SCALE, tokenizerDir: TINY_MODEL, threads: 1, noiseReference: REFERENCE });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 300_000);
afterAll(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('built-in benchmark (quick scale)', () => {
  it('runs every stage, scores each chosen model on the test split and writes the paper-style tables', () => {
    const stages = ['zero-shot', 'LoRA', 'LoRA + DA', 'LoRA + DA + SCST', 'SCST, per-batch CIDEr (ablation)'];
    // the summary is the cross-entropy stages' run; SCST and its ablation ran in a second folder
    expect(result.summary.rows.map((r) => r.stage)).toEqual(stages.slice(0, 3));
    expect(result.summary.markdown.split('\n')[0]).toBe('| model | B-1 | B-2 | B-3 | B-4 | METEOR | ROUGE-L | CIDEr |');
    expect(result.test.map((r) => r.stage)).toEqual(stages);
    expect(result.val.map((r) => r.stage)).toEqual(stages);
    expect(result.val.slice(0, 3)).toEqual(result.summary.rows);
    expect(result.test.every((r) => Object.keys(r.scores).length === 7)).toBe(true);
    // the test split has images of its own, so its scores are not the validation ones
    expect(result.test[0]!.scores.CIDEr).not.toBe(result.val[0]!.scores.CIDEr);
    expect(result.noise!.labels.map((l) => [l.stage, l.over, l.label === 'no reference'])).toEqual([
      ['LoRA', 'zero-shot', false], ['LoRA + DA', 'LoRA', false], ['LoRA + DA + SCST', 'LoRA + DA', true], ['SCST, per-batch CIDEr (ablation)', 'LoRA + DA', false],
    ]);
    expect(result.noise!.labels[0]!.difference).toBeCloseTo(result.test[1]!.scores.CIDEr! - result.test[0]!.scores.CIDEr!, 12);
    const written = JSON.parse(readFileSync(result.resultsPath, 'utf8'));
    expect([written.testImages, written.test, written.design]).toEqual([QUICK_SCALE.assistiveTest, result.test, { trainViews: 'all', scstPool: 400 }]);
    // SCST learned from the pool (its own split), starting from the augmented stage's best adapter
    expect(result.data.manifest.images['assistive/scst']).toBe(400);
    expect(result.report.runDirs.length).toBe(2);
    const rl = JSON.parse(readFileSync(join(result.report.runDirs[1]!, 'config.json'), 'utf8'));
    expect(rl.train.file).toBe(join(root, 'data', 'assistive', 'annotations', 'scst.json'));
    expect(rl.stages.map((s: { init?: string }) => s.init)).toEqual([
      join(result.report.runDirs[0]!, 'stages', '2-lora-da', 'best'), join(result.report.runDirs[0]!, 'stages', '2-lora-da', 'best'),
    ]);
    // every stage x (clean + 1 corruption x 2 severities)
    expect(result.robustness.length).toBe(4 * 3);
    expect(existsSync(join(result.pretrainedDir, 'model.safetensors'))).toBe(true);
    expect(JSON.parse(readFileSync(join(result.pretrainedDir, 'pretrain.json'), 'utf8')).losses.length).toBe(QUICK_SCALE.pretrainSteps);
  });

  it('report.html renders offline: table, charts and samples', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
    await page.goto(`file://${result.reportPath}`);
    expect(await page.locator('#results tbody tr').count()).toBe(5);
    expect(await page.locator('#results tbody tr th').allTextContents()).toEqual(['zero-shot', 'LoRA', 'LoRA + DA', 'LoRA + DA + SCST', 'SCST, per-batch CIDEr (ablation)']);
    expect(await page.locator('#results tbody tr').first().locator('td').last().textContent()).toBe(result.val[0]!.scores.CIDEr!.toFixed(4));
    expect(await page.locator('#training-charts svg').count()).toBe(3); // loss, SCST rewards, validation CIDEr
    expect(await page.locator('#training-charts svg polyline.series').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#robustness-charts svg').count()).toBe(1);
    expect(await page.locator('.sample img').count()).toBe(8);
    expect(await page.locator('#noise tbody tr').count()).toBe(4);
    expect(await page.locator('#noise tbody tr td:last-child').nth(2).textContent()).toBe('no reference');
    const natural = await page.locator('.sample img').first().evaluate((img: ImageElement) => img.naturalWidth);
    expect(natural).toBe(64);
    expect(requests).toEqual([]);
    const artefacts = resolve('test-artifacts');
    mkdirSync(artefacts, { recursive: true });
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.screenshot({ path: join(artefacts, 'report.png'), fullPage: true });
    await page.close();
  });
});
