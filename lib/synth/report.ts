/**
 * report.html of the built-in benchmark: self-contained (inline SVG charts, images as data URIs, no CDN), with
 * the results table, training-loss and validation-CIDEr curves per stage, sample images with every stage's
 * caption, and CIDEr against corruption severity per stage.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { readJsonFile } from '../io/json.js';
import type { RunSummary } from '../train/run.js';
import { stageDirectory } from '../train/run.js';
import { resultsMarkdown } from '../train/results.js';
import { METRIC_RESULTS, needsJar } from '../metrics/registry.js';
import { lineChart, type Series } from './svg-chart.js';

export interface ReportInput {
  path: string;
  runDir: string;
  summary: RunSummary;
  robustness: { stage: string; corruption: string; severity: number; cider: number }[];
  valImages: { annotations: string; imageRoot: string };
  pretrainedDir: string;
  /** Sample images shown. Default 8. */
  samples?: number;
}

const escapeHtml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The results table's columns: the metrics the benchmark computes, i.e. every one that needs no jar. */
const TABLE_COLUMNS = METRIC_RESULTS.filter(({ metric }) => !needsJar(metric));

interface LogLine { stage: string; step: number; loss: number; scst?: { reward: { mean: number } } }

/** A run file the report can do without: undefined when it is missing or unreadable. */
async function readJson<T>(path: string): Promise<T | undefined> {
  return readJsonFile(path, 'run file').then((v) => v as T, () => undefined);
}

/** Every evaluation of a stage: step order is the folder order (eval-1, eval-2, ...). */
async function stageEvaluations(dir: string): Promise<{ index: number; cider: number; predictions: { image_id: string | number; caption: string }[] }[]> {
  const entries = (await readdir(dir).catch(() => [] as string[])).filter((e) => /^eval-\d+$/.test(e));
  const out = [];
  for (const e of entries.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))) {
    const metrics = await readJson<{ corpus: { CIDEr?: number } }>(join(dir, e, 'metrics.json'));
    const predictions = (await readJson<{ image_id: string | number; caption: string }[]>(join(dir, e, 'predictions.json'))) ?? [];
    out.push({ index: Number(e.slice(5)), cider: metrics?.corpus.CIDEr ?? 0, predictions });
  }
  return out;
}

export async function writeReport(input: ReportInput): Promise<void> {
  const stages = input.summary.rows.filter((r) => r.stage !== 'zero-shot').map((r) => r.stage);
  const log = ((await readFile(join(input.runDir, 'log.jsonl'), 'utf8').catch(() => '')) || '')
    .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LogLine);
  const isScst = (name: string) => log.some((l) => l.stage === name && l.scst);
  const lossSeries: Series[] = stages.filter((n) => !isScst(n)).map((name) => ({ name, points: log.filter((l) => l.stage === name).map((l) => [l.step, l.loss] as [number, number]) }));
  const rewardSeries: Series[] = stages.filter(isScst).map((name) => ({ name: `${name}: mean sampled CIDEr-D`, points: log.filter((l) => l.stage === name && l.scst).map((l) => [l.step, l.scst!.reward.mean] as [number, number]) }));

  const evals = await Promise.all(stages.map((name, i) => stageEvaluations(stageDirectory(input.runDir, i, name))));
  const ciderSeries: Series[] = stages.map((name, i) => ({ name, points: evals[i]!.map((e) => [e.index, e.cider] as [number, number]) }));
  // the zero-shot score as a flat reference line across the evaluations
  const zeroShotCider = input.summary.rows.find((r) => r.stage === 'zero-shot')?.scores.CIDEr;
  const lastEval = Math.max(1, ...evals.flatMap((e) => e.map((x) => x.index)));
  if (zeroShotCider !== undefined) ciderSeries.unshift({ name: 'zero-shot', points: [[1, zeroShotCider], [lastEval, zeroShotCider]] });
  const zeroShot = (await readJson<{ image_id: string | number; caption: string }[]>(join(input.runDir, 'zero-shot', 'predictions.json'))) ?? [];

  // sample images with each stage's caption (from the stage's best evaluation)
  const annotations = (await readJsonFile(input.valImages.annotations, 'annotation file')) as {
    images: { id: number | string; file_name: string }[];
    annotations: { image_id: number | string; caption: string }[];
  };
  const count = input.samples ?? 8;
  const chosen = annotations.images.slice(0, count);
  const bestPredictions = evals.map((list) => list.reduce((best, e) => (e.cider > best.cider ? e : best), list[0] ?? { cider: -1, predictions: [], index: 0 }).predictions);
  // predictions.json keeps the dataset's id type (numbers for VizWiz / COCO)
  const captionOf = (preds: { image_id: string | number; caption: string }[], id: string) => preds.find((p) => String(p.image_id) === id)?.caption ?? '';
  const cards: string[] = [];
  for (const image of chosen) {
    const id = String(image.id);
    const png = await readFile(join(input.valImages.imageRoot, image.file_name));
    const refs = annotations.annotations.filter((a) => String(a.image_id) === id).map((a) => a.caption);
    const rows = [['zero-shot', captionOf(zeroShot, id)], ...stages.map((s, i) => [s, captionOf(bestPredictions[i]!, id)])]
      .map(([stage, caption]) => `<tr><th scope="row">${escapeHtml(stage!)}</th><td>${escapeHtml(caption!)}</td></tr>`).join('');
    cards.push(`<figure class="sample"><img src="data:image/png;base64,${png.toString('base64')}" alt="validation image ${escapeHtml(id)}" width="128" height="128">` +
      `<figcaption><table>${rows}<tr><th scope="row">reference</th><td>${escapeHtml(refs[0] ?? '')}</td></tr></table></figcaption></figure>`);
  }

  const corruptions = [...new Set(input.robustness.map((p) => p.corruption))];
  const robustnessCharts = corruptions.map((c) => lineChart(
    [...new Set(input.robustness.map((p) => p.stage))].map((stage) => ({
      name: stage,
      points: input.robustness.filter((p) => p.corruption === c && p.stage === stage).map((p) => [p.severity, p.cider] as [number, number]),
    })),
    { title: `CIDEr under ${c.replace(/_/g, ' ')}`, xLabel: 'severity (0 = clean)', yLabel: 'CIDEr', markers: true, width: 420, height: 280 },
  ));

  const table = input.summary.rows.map((r) => {
    const cell = (v: number | undefined) => `<td>${v === undefined ? '' : v.toFixed(4)}</td>`;
    return `<tr><th scope="row">${escapeHtml(r.stage)}</th>${TABLE_COLUMNS.map(({ key }) => cell(r.scores[key])).join('')}</tr>`;
  }).join('');

  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>blip2-progressive: built-in benchmark report</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table.results{border-collapse:collapse}table.results td,table.results th{border:1px solid #ccc;padding:4px 8px;text-align:right}
table.results th[scope=row]{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{max-width:100%;height:auto;border:1px solid #eee}
.samples{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
.sample{display:flex;flex-direction:column;gap:8px;margin:0;border:1px solid #eee;padding:8px}
.sample img{image-rendering:pixelated;flex:none}.sample table{font-size:13px;width:100%}.sample th{text-align:left;padding-right:6px;width:40%;vertical-align:top;color:#555}
</style></head><body>
<h1>Progressive fine-tuning on the built-in synthetic benchmark</h1>
<p>A tiny BLIP-2 pretrained on clean synthetic scenes (<code>${escapeHtml(input.pretrainedDir)}</code>), adapted to the assistive
domain (blur, darkness, noise, glare, off-centre framing): zero-shot, then LoRA, LoRA with caption augmentation (the paper's synonym substitution, with this dataset's synonyms), and SCST with
a CIDEr-D reward. Validation: the assistive validation set; metrics as pycocoevalcap computes them (METEOR: NLTK variant).</p>
<h2>Results</h2>
<table class="results" id="results"><thead><tr><th>model</th>${TABLE_COLUMNS.map(({ label }) => `<th>${label}</th>`).join('')}</tr></thead>
<tbody>${table}</tbody></table>
<h2>Training</h2>
<div class="charts" id="training-charts">
${lineChart(lossSeries, { title: 'Training loss per step (cross-entropy stages)', xLabel: 'optimizer step (within the stage)', yLabel: 'loss' })}
${rewardSeries.length ? lineChart(rewardSeries, { title: 'SCST reward per step', xLabel: 'optimizer step', yLabel: 'CIDEr-D', markers: true }) : ''}
${lineChart(ciderSeries, { title: 'Validation CIDEr per evaluation', xLabel: 'evaluation within the stage', yLabel: 'CIDEr', markers: true, yFromZero: false })}
</div>
<h2>Robustness</h2>
<div class="charts" id="robustness-charts">${robustnessCharts.join('\n')}</div>
<h2>Samples</h2>
<div class="samples">${cards.join('\n')}</div>
<h2>Table (Markdown)</h2>
<pre>${escapeHtml(resultsMarkdown(input.summary.rows))}</pre>
</body></html>
`;
  await writeFileAtomic(input.path, html);
}
