/**
 * The demo page: one self-contained HTML document (inline CSS and script, no CDN, works offline) with an image
 * picker/drop zone and preview, a "paper demo" preset, the generation options, a Generate button, and one caption
 * card per model. Keyboard use follows the document order (image, preset, prompt, options, Generate); results and
 * the preset are announced politely.
 */
import { GENERATION_LIMITS } from '../generation/config.js';
import type { ApiCaptionOptions } from './options.js';
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

// the preset's values, lowered to the server's limits
field('preset-paper').addEventListener('click', () => {
  const p = config.paperPreset;
  const cap = (n) => Math.min(n, config.limits.options.maxNewTokens);
  field('prompt').value = p.prompt;
  field('max-new-tokens').value = cap(p.maxNewTokens);
  field('min-new-tokens').value = cap(p.minNewTokens);
  field('length-penalty').value = p.lengthPenalty;
  field('no-repeat-ngram-size').value = cap(p.noRepeatNgramSize);
  setStatus('Paper demo settings: prompt "' + p.prompt + '", max new tokens ' + cap(p.maxNewTokens) + ', min new tokens ' + cap(p.minNewTokens) +
    ', length penalty ' + p.lengthPenalty + ', no-repeat n-gram size ' + cap(p.noRepeatNgramSize) + '.', false);
});

// max new tokens and beams are always sent; the other numbers only when changed, so that untouched fields leave the
// model's own generation defaults (generation_config.json)
const SENT = [['max-new-tokens', 'maxNewTokens'], ['num-beams', 'numBeams']];
const SENT_WHEN_CHANGED = [['min-new-tokens', 'minNewTokens'], ['num-return-sequences', 'numReturnSequences'],
  ['length-penalty', 'lengthPenalty'], ['no-repeat-ngram-size', 'noRepeatNgramSize']];

function options() {
  const o = {};
  const prompt = field('prompt').value;
  if (prompt.trim() !== '') o.prompt = prompt;
  const read = (changedOnly) => ([id, key]) => {
    const input = field(id);
    if (input.value.trim() !== '' && !(changedOnly && input.value === input.defaultValue)) o[key] = Number(input.value);
  };
  SENT.forEach(read(false));
  SENT_WHEN_CHANGED.forEach(read(true));
  if (doSample.checked) {
    o.doSample = true;
    [['temperature', 'temperature'], ['top-p', 'topP'], ['seed', 'seed']].forEach(read(false));
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
<div class="row">
<div><label for="max-new-tokens">Max new tokens</label><input type="number" id="max-new-tokens" name="maxNewTokens" min="1" max="${o.maxNewTokens}" value="${Math.min(20, o.maxNewTokens)}" inputmode="numeric"></div>
<div><label for="min-new-tokens">Min new tokens</label><input type="number" id="min-new-tokens" name="minNewTokens" min="0" max="${o.maxNewTokens}" value="0" inputmode="numeric"></div>
<div><label for="num-beams">Beams</label><input type="number" id="num-beams" name="numBeams" min="1" max="${o.maxBeams}" value="1" inputmode="numeric"></div>
<div><label for="num-return-sequences">Captions per model</label><input type="number" id="num-return-sequences" name="numReturnSequences" min="1" max="${o.maxBeams}" value="1" inputmode="numeric" aria-describedby="num-return-sequences-hint"></div>
</div>
<p class="hint" id="num-return-sequences-hint">More than one caption per model needs as many beams, or sampling. Length penalty acts in beam search only (above 1 favours longer captions).</p>
<div class="row">
<div><label for="length-penalty">Length penalty</label><input type="number" id="length-penalty" name="lengthPenalty" min="${GENERATION_LIMITS.lengthPenalty[0]}" max="${GENERATION_LIMITS.lengthPenalty[1]}" step="0.05" value="1"></div>
<div><label for="no-repeat-ngram-size">No-repeat n-gram size</label><input type="number" id="no-repeat-ngram-size" name="noRepeatNgramSize" min="0" max="${o.maxNewTokens}" value="0" inputmode="numeric"></div>
</div>
<label class="check"><input type="checkbox" id="do-sample" name="doSample"> Sample (instead of greedy / beam search)</label>
<fieldset id="sampling" disabled>
<legend>Sampling</legend>
<div class="row">
<div><label for="temperature">Temperature</label><input type="number" id="temperature" name="temperature" min="0.01" max="10" step="0.05" value="1"></div>
<div><label for="top-p">Top-p</label><input type="number" id="top-p" name="topP" min="0" max="1" step="0.05" value="0.9"></div>
<div><label for="seed">Seed (optional)</label><input type="number" id="seed" name="seed" min="0" step="1" inputmode="numeric"></div>
</div>
</fieldset>
<div><button type="submit" id="generate">Generate</button></div>
<p id="status" role="status" aria-live="polite"></p>
</form>
<section aria-labelledby="results-title">
<h2 id="results-title" class="visually-hidden">Captions</h2>
<div id="results"></div>
</section>
</main>
<script type="application/json" id="config">${scriptJson({ models: config.models, limits: { uploadBytes: config.limits.uploadBytes, options: o }, paperPreset: p })}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
