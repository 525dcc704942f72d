/**
 * The demo page: one self-contained HTML document (inline CSS and script, no CDN, works offline) with an image
 * picker/drop zone and preview, a "paper demo" preset, the generation options, a Generate button, and one caption
 * card per model. Keyboard use follows the document order (image, preset, prompt, options, Generate); results and
 * the preset are announced politely.
 */
import { generationFlag, generationOption, generationOptionsOn, type GenerationKey, type GenerationOptionSpec } from '../generation/options.js';
import type { ApiCaptionOptions, ApiOptionLimits } from './options.js';
import type { ServerLimits } from './limits.js';

/**
 * The seed project's demo settings (its Gradio demo: a tokens slider 8–40 at 40, prompt "caption",
 * `min_new_tokens` 20, `length_penalty` 1.15, `no_repeat_ngram_size` 3). The page's "Paper demo settings" button
 * sets exactly these, lowered to the server's limits; the other options stay as they are.
 */
export const PAPER_DEMO_PRESET = Object.freeze({
  prompt: 'caption', maxNewTokens: 40, minNewTokens: 20, lengthPenalty: 1.15, noRepeatNgramSize: 3,
} satisfies ApiCaptionOptions);

/** What the page needs to know about the server. */
export interface PageConfig {
  /** Names of the models (or adapters) whose captions are shown side by side. */
  models: readonly string[];
  limits: ServerLimits;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Where a generation option's control sits on the page, in this order. */
type PageSection = 'length' | 'beam' | 'toggle' | 'sampling';

/**
 * How the page presents each generation option it exposes (the registry's `page` surface); its kind, bounds and
 * default come from the registry. `send`: always, only when changed from the default (so that untouched fields leave
 * the model's own generation_config.json), or only while sampling is on.
 */
const PAGE_CONTROLS: Readonly<Record<string, { label: string; section: PageSection; send: 'always' | 'changed' | 'sampling'; step?: number; hint?: string }>> = {
  maxNewTokens: { label: 'Max new tokens', section: 'length', send: 'always' },
  minNewTokens: { label: 'Min new tokens', section: 'length', send: 'changed' },
  numBeams: { label: 'Beams', section: 'length', send: 'always' },
  numReturnSequences: {
    label: 'Captions per model', section: 'length', send: 'changed',
    hint: 'More than one caption per model needs as many beams, or sampling. Length penalty acts in beam search only (above 1 favours longer captions).',
  },
  lengthPenalty: { label: 'Length penalty', section: 'beam', send: 'changed', step: 0.05 },
  noRepeatNgramSize: { label: 'No-repeat n-gram size', section: 'beam', send: 'changed' },
  doSample: { label: 'Sample (instead of greedy / beam search)', section: 'toggle', send: 'always' },
  temperature: { label: 'Temperature', section: 'sampling', send: 'sampling', step: 0.05 },
  topP: { label: 'Top-p', section: 'sampling', send: 'sampling', step: 0.05 },
  seed: { label: 'Seed (optional)', section: 'sampling', send: 'sampling', step: 1 },
};

/** A page option's control: its element id, bounds and starting value under the server's limits. */
export interface PageControl {
  name: string;
  id: string;
  kind: 'slider' | 'number' | 'checkbox';
  min?: number;
  max?: number;
  /** The starting value; undefined leaves the field empty. */
  value?: number | boolean;
}

/**
 * The controls of the page's generation options, in the registry's order: bounds from the option's range (or its
 * page slider's), the top lowered to the server's limit where the option has one, starting at the registry's default.
 */
export function pageControls(limits: ApiOptionLimits): PageControl[] {
  return generationOptionsOn('page').map((spec) => {
    const id = generationFlag(spec.name).slice(2);
    if (spec.kind === 'boolean') return { name: spec.name, id, kind: 'checkbox', value: spec.default as boolean };
    const [low, high] = spec.pageSlider?.range ?? spec.range!;
    const max = Math.min(high, spec.serverMax ? limits[spec.serverMax] : high);
    const min = Math.min(low, max);
    const start = spec.pageSlider?.default ?? (spec.default as number | undefined);
    return { name: spec.name, id, kind: spec.pageSlider ? 'slider' : 'number', min, max, ...(start === undefined ? {} : { value: Math.min(start, max) }) };
  });
}

function presentation(spec: GenerationOptionSpec) {
  const shown = PAGE_CONTROLS[spec.name];
  if (!shown) throw new Error(`The demo page has no control for the generation option ${spec.name}`);
  return shown;
}

/** The markup of one control (label, field and hint). */
function controlHtml(control: PageControl): string {
  const shown = PAGE_CONTROLS[control.name]!;
  if (control.kind === 'checkbox') {
    return `<label class="check"><input type="checkbox" id="${control.id}" name="${control.name}"${control.value ? ' checked' : ''}> ${shown.label}</label>`;
  }
  const attributes = [
    `id="${control.id}"`, `name="${control.name}"`, `min="${control.min}"`, `max="${control.max}"`,
    ...(shown.step !== undefined ? [`step="${shown.step}"`] : []),
    ...(control.value !== undefined ? [`value="${control.value}"`] : []),
    ...(control.kind === 'number' && generationOption(control.name as GenerationKey).kind === 'integer' ? ['inputmode="numeric"'] : []),
    ...(shown.hint ? [`aria-describedby="${control.id}-hint"`] : []),
  ].join(' ');
  const field = control.kind === 'slider'
    ? `<span class="slider"><input type="range" ${attributes}><output id="${control.id}-value" for="${control.id}">${control.value ?? ''}</output></span>`
    : `<input type="number" ${attributes}>`;
  return `<div><label for="${control.id}">${shown.label}</label>${field}</div>`;
}

/** The generation options' part of the form. */
function optionsHtml(limits: ApiOptionLimits): string {
  const controls = pageControls(limits);
  const specs = generationOptionsOn('page');
  const section = (name: PageSection) => controls.filter((_, i) => presentation(specs[i]!).section === name);
  const hints = (list: PageControl[]) => list.flatMap((c) => {
    const hint = PAGE_CONTROLS[c.name]!.hint;
    return hint ? [`<p class="hint" id="${c.id}-hint">${hint}</p>`] : [];
  });
  const row = (list: PageControl[]) => [`<div class="row">\n${list.map(controlHtml).join('\n')}\n</div>`, ...hints(list)].join('\n');
  return [
    row(section('length')),
    row(section('beam')),
    ...section('toggle').map(controlHtml),
    `<fieldset id="sampling" disabled>\n<legend>Sampling</legend>\n${row(section('sampling'))}\n</fieldset>`,
  ].join('\n');
}

/** What the page's script sends: [element id, option name, when]. */
function sentOptions(): [string, string, 'always' | 'changed' | 'sampling'][] {
  return generationOptionsOn('page').filter((spec) => spec.kind !== 'boolean')
    .map((spec) => [generationFlag(spec.name).slice(2), spec.name, presentation(spec).send]);
}

const STYLE = `
:root { color-scheme: light dark; --accent: #2457d6; --border: #8888; --card: #8881; font-family: system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.layout { display: grid; gap: 1.25rem; grid-template-columns: minmax(0, 1fr); }
@media (min-width: 48rem) { .layout { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); } }
form { display: grid; gap: .75rem; }
label { font-weight: 600; display: block; margin-bottom: .2rem; }
input[type=text], input[type=number] { width: 100%; padding: .5rem; font: inherit; border: 1px solid var(--border); border-radius: .4rem; }
.slider { display: flex; gap: .5rem; align-items: center; min-height: 2.4rem; }
.slider input { flex: 1; min-width: 0; margin: 0; }
.slider output { min-width: 2.5ch; text-align: right; font-variant-numeric: tabular-nums; }
.row { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(8rem, 1fr)); align-items: end; }
#drop { border: 2px dashed var(--border); border-radius: .6rem; padding: 1rem; text-align: center; }
#drop.over { border-color: var(--accent); background: #2457d61a; }
#preview { display: block; max-width: 100%; max-height: 18rem; margin: .75rem auto 0; image-rendering: auto; }
#preview[hidden] { display: none; }
fieldset { border: 1px solid var(--border); border-radius: .6rem; padding: .75rem; }
fieldset:disabled { opacity: .6; }
.check { display: flex; gap: .5rem; align-items: center; font-weight: 600; }
.preset { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
button.secondary { background: transparent; color: inherit; border: 2px solid var(--accent); padding: .5rem 1rem; }
.sequences { margin: .4rem 0 0; padding-left: 1.4rem; }
.sequences li { margin-bottom: .3rem; overflow-wrap: anywhere; }
button { font: inherit; font-weight: 600; padding: .7rem 1.4rem; border: 0; border-radius: .5rem; background: var(--accent); color: #fff; cursor: pointer; min-height: 2.75rem; }
button:disabled { opacity: .6; cursor: progress; }
:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
#results { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); align-content: start; }
.card { border: 1px solid var(--border); border-radius: .6rem; padding: .75rem; background: var(--card); }
.card h2 { font-size: 1rem; margin: 0 0 .4rem; overflow-wrap: anywhere; }
.caption-text { font-size: 1.15rem; margin: 0 0 .4rem; overflow-wrap: anywhere; }
.meta, .hint { font-size: .85rem; opacity: .8; margin: 0; }
#status.error { color: #c62828; font-weight: 600; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const SCRIPT = `
const config = JSON.parse(document.getElementById('config').textContent);
const form = document.getElementById('caption-form');
const input = document.getElementById('image');
const drop = document.getElementById('drop');
const preview = document.getElementById('preview');
const sampling = document.getElementById('sampling');
const doSample = document.getElementById('do-sample');
const button = document.getElementById('generate');
const status = document.getElementById('status');
const results = document.getElementById('results');
const field = (id) => document.getElementById(id);
let previewUrl;

function showPreview() {
  const file = input.files && input.files[0];
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  if (!file) { preview.hidden = true; return; }
  previewUrl = URL.createObjectURL(file);
  preview.src = previewUrl;
  preview.alt = 'Preview of ' + file.name;
  preview.hidden = false;
}
input.addEventListener('change', showPreview);
for (const type of ['dragenter', 'dragover']) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  if (e.dataTransfer && e.dataTransfer.files.length > 0) { input.files = e.dataTransfer.files; showPreview(); }
});
doSample.addEventListener('change', () => { sampling.disabled = !doSample.checked; });

function setStatus(text, isError) {
  status.textContent = text;
  status.className = isError ? 'error' : '';
  status.setAttribute('role', isError ? 'alert' : 'status');
}

// a slider shows its value beside it
for (const slider of document.querySelectorAll('input[type=range]')) {
  slider.addEventListener('input', () => { field(slider.id + '-value').value = slider.value; });
}
const setField = (id, value) => {
  field(id).value = value;
  field(id).dispatchEvent(new Event('input'));
};

// the preset's values, lowered to the server's limits
field('preset-paper').addEventListener('click', () => {
  const p = config.paperPreset;
  const cap = (n) => Math.min(n, config.limits.options.maxNewTokens);
  setField('prompt', p.prompt);
  setField('max-new-tokens', cap(p.maxNewTokens));
  setField('min-new-tokens', cap(p.minNewTokens));
  setField('length-penalty', p.lengthPenalty);
  setField('no-repeat-ngram-size', cap(p.noRepeatNgramSize));
  setStatus('Paper demo settings: prompt "' + p.prompt + '", max new tokens ' + cap(p.maxNewTokens) + ', min new tokens ' + cap(p.minNewTokens) +
    ', length penalty ' + p.lengthPenalty + ', no-repeat n-gram size ' + cap(p.noRepeatNgramSize) + '.', false);
});

// config.sent: [id, option, when] — always, only when changed (so that untouched fields leave the model's own
// generation defaults, generation_config.json), or only while sampling
function options() {
  const o = {};
  const prompt = field('prompt').value;
  if (prompt.trim() !== '') o.prompt = prompt;
  if (doSample.checked) o.doSample = true;
  for (const [id, key, when] of config.sent) {
    const input = field(id);
    if (when === 'sampling' && !doSample.checked) continue;
    if (input.value.trim() !== '' && !(when === 'changed' && input.value === input.defaultValue)) o[key] = Number(input.value);
  }
  return o;
}

function sequenceList(sequences) {
  const list = document.createElement('ol');
  list.className = 'sequences';
  list.setAttribute('aria-label', sequences.length + ' sequences, best first');
  list.replaceChildren(...sequences.map((s) => {
    const item = document.createElement('li');
    item.textContent = (s.text === '' ? '(empty caption)' : s.text) + ' (score ' + s.score.toFixed(3) + ')';
    return item;
  }));
  return list;
}

function showCaptions(body) {
  results.replaceChildren(...body.captions.map((c) => {
    const card = document.createElement('article');
    card.className = 'card';
    const title = document.createElement('h2');
    title.textContent = c.model;
    const text = document.createElement('p');
    text.className = 'caption-text';
    text.textContent = c.text === '' ? '(empty caption)' : c.text;
    const meta = document.createElement('p');
    meta.className = 'meta';
    meta.textContent = 'score ' + c.score.toFixed(3) + ' · ' + (c.tokenIds.length - 1) + ' tokens';
    card.append(title, text, meta);
    if (c.sequences) card.append(sequenceList(c.sequences));
    return card;
  }));
  const t = body.timings;
  setStatus('Done in ' + Math.round(t.totalMs) + ' ms (decode ' + Math.round(t.preprocessMs) + ' ms, generate ' + Math.round(t.generateMs) + ' ms).', false);
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = input.files && input.files[0];
  if (!file) { setStatus('Choose or drop an image first.', true); input.focus(); return; }
  if (file.size > config.limits.uploadBytes) { setStatus('The image is larger than ' + config.limits.uploadBytes + ' bytes.', true); return; }
  const data = new FormData();
  data.append('image', file, file.name);
  data.append('options', JSON.stringify(options()));
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  setStatus('Generating…', false);
  try {
    const response = await fetch('api/caption', { method: 'POST', body: data });
    const body = await response.json().catch(() => ({ message: response.statusText }));
    if (!response.ok) {
      const retry = response.headers.get('retry-after');
      setStatus('Error ' + response.status + ': ' + body.message + (retry ? ' (retry in ' + retry + ' s)' : ''), true);
    } else {
      showCaptions(body);
    }
  } catch (err) {
    setStatus('The server could not be reached: ' + err.message, true);
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
});
`;

/** The page's HTML for a server with these models and limits. */
export function renderPage(config: PageConfig): string {
  const o = config.limits.options;
  const p = PAPER_DEMO_PRESET;
  const models = config.models.map(escapeHtml).join(', ');
  const mib = (config.limits.uploadBytes / 2 ** 20).toFixed(config.limits.uploadBytes % 2 ** 20 === 0 ? 0 : 1);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>BLIP-2 captioning demo</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>BLIP-2 captioning demo</h1>
<p class="hint">Model${config.models.length > 1 ? 's' : ''}: ${models}. Uploads are kept in memory only, never written to disk: up to ${mib} MiB of JPEG, PNG, GIF, WebP, TIFF or AVIF.</p>
</header>
<main class="layout">
<form id="caption-form" novalidate>
<div id="drop">
<label for="image">Image (choose a file or drop it here)</label>
<input type="file" id="image" name="image" accept="image/jpeg,image/png,image/gif,image/webp,image/tiff,image/avif">
<img id="preview" alt="" hidden>
</div>
<div class="preset">
<button type="button" class="secondary" id="preset-paper" aria-describedby="preset-paper-hint">Paper demo settings</button>
<p class="hint" id="preset-paper-hint">The seed project's demo: prompt "caption", ${p.maxNewTokens} max and ${p.minNewTokens} min new tokens, length penalty ${p.lengthPenalty}, no repeated ${p.noRepeatNgramSize}-grams.</p>
</div>
<div>
<label for="prompt">Prompt (optional)</label>
<input type="text" id="prompt" name="prompt" maxlength="${o.maxPromptLength}" placeholder="e.g. a photo of" autocomplete="off">
</div>
${optionsHtml(o)}
<div><button type="submit" id="generate">Generate</button></div>
<p id="status" role="status" aria-live="polite"></p>
</form>
<section aria-labelledby="results-title">
<h2 id="results-title" class="visually-hidden">Captions</h2>
<div id="results"></div>
</section>
</main>
<script type="application/json" id="config">${scriptJson({ models: config.models, limits: { uploadBytes: config.limits.uploadBytes, options: o }, paperPreset: p, sent: sentOptions() })}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
