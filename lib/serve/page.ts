/**
 * The demo page: one self-contained HTML document (inline CSS and script, no CDN, works offline) with an image
 * picker/drop zone and preview, the generation options, a Generate button, and one caption card per model.
 * Keyboard use follows the document order (image, prompt, options, Generate); results are announced politely.
 */
import type { ServerLimits } from './server.js';

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
.row { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(8rem, 1fr)); }
#drop { border: 2px dashed var(--border); border-radius: .6rem; padding: 1rem; text-align: center; }
#drop.over { border-color: var(--accent); background: #2457d61a; }
#preview { display: block; max-width: 100%; max-height: 18rem; margin: .75rem auto 0; image-rendering: auto; }
#preview[hidden] { display: none; }
fieldset { border: 1px solid var(--border); border-radius: .6rem; padding: .75rem; }
fieldset:disabled { opacity: .6; }
.check { display: flex; gap: .5rem; align-items: center; font-weight: 600; }
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

function options() {
  const o = { maxNewTokens: Number(document.getElementById('max-new-tokens').value), numBeams: Number(document.getElementById('num-beams').value) };
  const prompt = document.getElementById('prompt').value;
  if (prompt.trim() !== '') o.prompt = prompt;
  if (doSample.checked) {
    o.doSample = true;
    o.temperature = Number(document.getElementById('temperature').value);
    o.topP = Number(document.getElementById('top-p').value);
    const seed = document.getElementById('seed').value;
    if (seed !== '') o.seed = Number(seed);
  }
  return o;
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
<div>
<label for="prompt">Prompt (optional)</label>
<input type="text" id="prompt" name="prompt" maxlength="${o.maxPromptLength}" placeholder="e.g. a photo of" autocomplete="off">
</div>
<div class="row">
<div><label for="max-new-tokens">Max new tokens</label><input type="number" id="max-new-tokens" name="maxNewTokens" min="1" max="${o.maxNewTokens}" value="${Math.min(20, o.maxNewTokens)}" inputmode="numeric"></div>
<div><label for="num-beams">Beams</label><input type="number" id="num-beams" name="numBeams" min="1" max="${o.maxBeams}" value="1" inputmode="numeric"></div>
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
<script type="application/json" id="config">${scriptJson({ models: config.models, limits: { uploadBytes: config.limits.uploadBytes, options: o } })}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
