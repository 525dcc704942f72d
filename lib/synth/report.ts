/**
 * report.html of the built-in benchmark: self-contained (inline SVG charts, images as data URIs, no CDN), with
 * the test results table (validation beside it), which differences are within noise, a multi-seed sweep's
 * statistics as intervals, training-loss and validation-CIDEr curves per stage, test images with every stage's
 * caption, and CIDEr against corruption severity per stage.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { readJsonFile } from '../io/json.js';
import { resultsMarkdown, type ResultRow } from '../train/results.js';
import { METRIC_RESULTS, needsJar } from '../metrics/registry.js';
import type { NoiseLabel } from './noise.js';
import type { StageStatistic } from './stats.js';
import { lineChart, type Series } from './svg-chart.js';

/** Each stage's captions of the sample images, by stage name (COCO result format). */
export type StagePredictions = Record<string, { image_id: string | number; caption: string }[]>;

/** The statistics of a multi-seed sweep, drawn as intervals. */
export interface SeedSection {
  stageSeeds: number;
  pretrainSeeds: number;
  /** Test statistics per stage. */
  stages: readonly StageStatistic[];
  /** Validation statistics per stage. */
  valStages: readonly StageStatistic[];
}

export interface ReportInput {
  path: string;
  pretrainedDir: string;
  /** Validation scores of every stage's chosen model (the choice was made on them). */
  val: ResultRow[];
  /** Test scores of the same models: the results table. */
  test: ResultRow[];
  /** Number of test images. */
  testImages: number;
  robustness: { stage: string; corruption: string; severity: number; cider: number }[];
  /** The run folders, in stage order (their log.jsonl gives the training curves). */
  runDirs: string[];
  /** Each stage's folder (its eval-<n>/ give the validation curve). */
  stageDirs: Record<string, string>;
  /** The sample images (the test split's first ones) and every stage's captions of them. */
  samples: { annotations: string; imageRoot: string; predictions: StagePredictions };
  /** The benchmark's design knobs. */
  design: { trainViews: string; scstPool: number };
  /** A single run's differences labelled against the cross-seed spread, and the rule. */
  noise?: { labels: readonly NoiseLabel[]; rule: string };
  /** A multi-seed sweep's statistics. */
  seeds?: SeedSection;
  /** Sample images shown. Default 8. */
  sampleCount?: number;
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

/** Reads every run's log.jsonl, in order. */
async function readLogs(runDirs: readonly string[]): Promise<LogLine[]> {
  const texts = await Promise.all(runDirs.map((dir) => readFile(join(dir, 'log.jsonl'), 'utf8').catch(() => '')));
  return texts.flatMap((t) => t.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LogLine));
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;

/** The results table: a row per stage, test scores with the validation CIDEr beside them. */
function resultsTable(test: readonly ResultRow[], val: readonly ResultRow[]): string {
  return test.map((r) => {
    const cell = (v: number | undefined) => `<td>${v === undefined ? '' : v.toFixed(4)}</td>`;
    const valCider = val.find((v) => v.stage === r.stage)?.scores.CIDEr;
    return `<tr><th scope="row">${escapeHtml(r.stage)}</th>${TABLE_COLUMNS.map(({ key }) => cell(r.scores[key])).join('')}${cell(valCider)}</tr>`;
  }).join('');
}

/** The single run's differences with their labels. */
function noiseSection(noise: NonNullable<ReportInput['noise']>): string {
  const rows = noise.labels.map((l) => `<tr><th scope="row">${escapeHtml(l.stage)}</th><td>${escapeHtml(l.over)}</td><td>${signed(l.difference)}</td>` +
    `<td>${l.bound === undefined ? '' : `±${l.bound.toFixed(3)}`}</td><td>${escapeHtml(l.label)}</td></tr>`).join('');
  return `<h2>Which differences are within noise</h2>
<table class="results" id="noise"><thead><tr><th>stage</th><th>over</th><th>test CIDEr difference</th><th>noise bound</th><th>verdict</th></tr></thead>
<tbody>${rows}</tbody></table>
<p>${escapeHtml(noise.rule).replace(/`([^`]+)`/g, '<code>$1</code>')}.</p>`;
}

/** The multi-seed sweep: mean ± sd per stage and the paired gains with their 95 % intervals, as error bars. */
function seedSection(seeds: SeedSection): string {
  const names = seeds.stages.map((s) => s.stage);
  // test and val side by side within each stage's category
  const meanSeries = (name: string, stats: readonly StageStatistic[], offset: number): Series => ({
    name, points: stats.map((s, i) => [i + offset, s.mean] as [number, number]), intervals: stats.map((s) => [s.mean - s.sd, s.mean + s.sd] as [number, number]),
  });
  const gains = seeds.stages.map((s, i) => ({ s, i })).filter(({ s }) => s.gain !== undefined);
  const gainSeries: Series = {
    name: 'paired gain over the stage it builds on (95 % interval)',
    points: gains.map(({ s, i }) => [i, s.gain!.mean] as [number, number]),
    intervals: gains.map(({ s }) => (s.gain!.low === undefined ? undefined : [s.gain!.low, s.gain!.high!] as [number, number])),
  };
  const runs = seeds.stages[0]?.n ?? 0;
  const rows = seeds.stages.map((s, i) => {
    const g = s.gain;
    const gain = g === undefined ? '–' : `${signed(g.mean)}${g.low === undefined ? '' : ` [${signed(g.low)}, ${signed(g.high!)}]`} over ${escapeHtml(g.over)}: ${escapeHtml(g.verdict)}`;
    const v = seeds.valStages[i];
    return `<tr><th scope="row">${escapeHtml(s.stage)}</th><td>${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}</td><td>${gain}</td>` +
      `<td>${v === undefined ? '' : `${v.mean.toFixed(3)} ± ${v.sd.toFixed(3)}`}</td></tr>`;
  }).join('');
  return `<h2>Over seeds</h2>
<p>${runs} runs: ${seeds.stageSeeds} stage seeds × ${seeds.pretrainSeeds} independently pretrained models. Test CIDEr-D of every stage's model
(chosen on validation): mean ± sd over the runs, and the paired difference to the stage it builds on with its 95 % interval
(Student's t, each run one pair).</p>
<table class="results" id="seeds"><thead><tr><th>stage</th><th>test CIDEr-D, mean ± sd</th><th>paired gain, 95 % interval</th><th>val CIDEr-D, mean ± sd</th></tr></thead>
<tbody>${rows}</tbody></table>
<div class="charts" id="seed-charts">
${lineChart([meanSeries('test CIDEr-D, mean ± sd', seeds.stages, -0.1), meanSeries('val CIDEr-D, mean ± sd', seeds.valStages, 0.1)],
    { title: 'CIDEr-D per stage over seeds', xLabel: 'stage', yLabel: 'CIDEr-D', lines: false, yFromZero: false, categories: names })}
${lineChart([gainSeries], { title: 'Paired gain per stage, 95 % interval', xLabel: 'stage', yLabel: 'test CIDEr-D difference', lines: false, yFromZero: false, categories: names, zeroLine: true })}
</div>`;
}

/** Writes report.html. */
export async function writeReport(input: ReportInput): Promise<void> {
  const stages = input.test.filter((r) => r.stage !== 'zero-shot').map((r) => r.stage);
  const log = await readLogs(input.runDirs);
  const isScst = (name: string) => log.some((l) => l.stage === name && l.scst);
  const lossSeries: Series[] = stages.filter((n) => !isScst(n)).map((name) => ({ name, points: log.filter((l) => l.stage === name).map((l) => [l.step, l.loss] as [number, number]) }));
  const rewardSeries: Series[] = stages.filter(isScst).map((name) => ({ name: `${name}: mean sampled CIDEr-D`, points: log.filter((l) => l.stage === name && l.scst).map((l) => [l.step, l.scst!.reward.mean] as [number, number]) }));

  const evals = await Promise.all(stages.map((name) => (input.stageDirs[name] ? stageEvaluations(input.stageDirs[name]) : Promise.resolve([]))));
  const ciderSeries: Series[] = stages.map((name, i) => ({ name, points: evals[i]!.map((e) => [e.index, e.cider] as [number, number]) }));
  // the zero-shot score as a flat reference line across the evaluations
  const zeroShotCider = input.val.find((r) => r.stage === 'zero-shot')?.scores.CIDEr;
  const lastEval = Math.max(1, ...evals.flatMap((e) => e.map((x) => x.index)));
  if (zeroShotCider !== undefined) ciderSeries.unshift({ name: 'zero-shot', points: [[1, zeroShotCider], [lastEval, zeroShotCider]] });

  // test images with each stage's caption
  const annotations = (await readJsonFile(input.samples.annotations, 'annotation file')) as {
    images: { id: number | string; file_name: string }[];
    annotations: { image_id: number | string; caption: string }[];
  };
  const chosen = annotations.images.slice(0, input.sampleCount ?? 8);
  // predictions keep the dataset's id type (numbers for VizWiz / COCO)
  const captionOf = (stage: string, id: string) => input.samples.predictions[stage]?.find((p) => String(p.image_id) === id)?.caption ?? '';
  const cards: string[] = [];
  for (const image of chosen) {
    const id = String(image.id);
    const png = await readFile(join(input.samples.imageRoot, image.file_name));
    const refs = annotations.annotations.filter((a) => String(a.image_id) === id).map((a) => a.caption);
    const rows = input.test.map((r) => [r.stage, captionOf(r.stage, id)])
      .map(([stage, caption]) => `<tr><th scope="row">${escapeHtml(stage!)}</th><td>${escapeHtml(caption!)}</td></tr>`).join('');
    cards.push(`<figure class="sample"><img src="data:image/png;base64,${png.toString('base64')}" alt="test image ${escapeHtml(id)}" width="128" height="128">` +
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
  const design = input.design.trainViews === 'all' && input.design.scstPool === 0 ? ''
    : ` Design: training views ${escapeHtml(input.design.trainViews)}${input.design.scstPool ? `, SCST on a pool of ${input.design.scstPool} images of its own` : ''}.`;

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
domain (blur, darkness, noise, glare, off-centre framing): zero-shot, then LoRA, LoRA with augmentation (a label-preserving flip and the paper's caption augmentation with this dataset's synonyms), and SCST with
a CIDEr-D reward. Each stage's model is chosen on the assistive validation set; the table scores it on the ${input.testImages} held-out test images
(validation CIDEr beside it for reference); metrics as pycocoevalcap computes them (METEOR: NLTK variant).${design}</p>
<h2>Results (test)</h2>
<table class="results" id="results"><thead><tr><th>model</th>${TABLE_COLUMNS.map(({ label }) => `<th>${label}</th>`).join('')}<th>val CIDEr</th></tr></thead>
<tbody>${resultsTable(input.test, input.val)}</tbody></table>
${input.noise ? noiseSection(input.noise) : ''}
${input.seeds ? seedSection(input.seeds) : ''}
<h2>Training</h2>
<div class="charts" id="training-charts">
${lineChart(lossSeries, { title: 'Training loss per step (cross-entropy stages)', xLabel: 'optimizer step (within the stage)', yLabel: 'loss' })}
${rewardSeries.length ? lineChart(rewardSeries, { title: 'SCST reward per step', xLabel: 'optimizer step', yLabel: 'CIDEr-D', markers: true }) : ''}
${lineChart(ciderSeries, { title: 'Validation CIDEr per evaluation', xLabel: 'evaluation within the stage', yLabel: 'CIDEr', markers: true, yFromZero: false })}
</div>
<h2>Robustness (test images)</h2>
<div class="charts" id="robustness-charts">${robustnessCharts.join('\n')}</div>
<h2>Samples (test images)</h2>
<div class="samples">${cards.join('\n')}</div>
<h2>Tables (Markdown)</h2>
<pre>test
${escapeHtml(resultsMarkdown(input.test))}
validation
${escapeHtml(resultsMarkdown(input.val))}</pre>
</body></html>
`;
  await writeFileAtomic(input.path, html);
}
