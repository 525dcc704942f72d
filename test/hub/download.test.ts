// Downloads through the real @huggingface/hub client from a loopback stand-in of the Hub.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModel, type DownloadProgress } from '../../lib/hub/resolve.js';
import type { Logger } from '../../lib/logger.js';
import { etagOf, repoFromFiles, startFakeHub, type FakeHub, stubHubEnv } from '../helpers/hub-server.js';

const COMMIT = 'c'.repeat(40);
/** 3 MB of bytes that differ everywhere, so a misplaced range cannot go unnoticed. */
const WEIGHTS = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7919 + (i >> 9)) & 255));
const FILES: Record<string, string | Buffer> = {
  'config.json': '{"model_type":"blip-2"}',
  'preprocessor_config.json': '{"image_processor_type":"BlipImageProcessor"}',
  'tokenizer.json': '{"model":{}}',
  'tokenizer_config.json': '{}',
  'generation_config.json': '{"max_length":20}',
  'spiece.model': 'not read by this library',
  'README.md': 'not needed',
  'model.safetensors': WEIGHTS,
};

let hub: FakeHub;
let root: string;
let cache: string;

beforeAll(async () => {
  hub = await startFakeHub({
    'org/tiny': repoFromFiles(COMMIT, FILES, { main: COMMIT, v1: COMMIT }),
    'org/pickled': repoFromFiles(COMMIT, { 'config.json': '{}', 'preprocessor_config.json': '{}', 'tokenizer.json': '{}', 'pytorch_model.bin': 'pickle' }),
    'org/sharded': repoFromFiles(COMMIT, {
      'config.json': '{}', 'preprocessor_config.json': '{}', 'tokenizer.json': '{}',
      'model.safetensors.index.json': JSON.stringify({ metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' } }),
      'model-00001-of-00002.safetensors': 'shard one', 'model-00002-of-00002.safetensors': 'shard two', 'added_tokens.json': '',
    }),
  });
});
afterAll(() => hub.close());
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'blip2-hub-download-'));
  cache = join(root, 'hub');
  hub.requests.length = 0;
  hub.ignoreRanges = false;
  hub.apiDelayMs = 0;
  stubHubEnv(hub, root);
  vi.stubEnv('HF_HUB_CACHE', cache);
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

const repoDir = () => join(cache, 'models--org--tiny');
const WANTED = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'generation_config.json', 'tokenizer_config.json', 'model.safetensors'];

function etag(name: string): string {
  const content = FILES[name]!;
  return etagOf({ bytes: typeof content === 'string' ? Buffer.from(content) : content, lfs: name.endsWith('.safetensors') });
}

describe('downloading a repo', () => {
  it('writes blobs, relative snapshot symlinks and refs/main as huggingface_hub does', async () => {
    const resolved = await resolveModel('org/tiny');
    const snapshot = join(repoDir(), 'snapshots', COMMIT);
    expect(resolved).toEqual({ dir: snapshot, source: 'hub', repoId: 'org/tiny', revision: 'main', commit: COMMIT, downloaded: WANTED });
    expect(readFileSync(join(repoDir(), 'refs', 'main'), 'utf8')).toBe(COMMIT);
    expect(readdirSync(join(repoDir(), 'snapshots', COMMIT)).sort()).toEqual([...WANTED].sort());
    for (const name of WANTED) {
      const link = join(snapshot, name);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(`../../blobs/${etag(name)}`);
      expect(readFileSync(link).equals(Buffer.from(FILES[name]!))).toBe(true);
    }
    expect(readdirSync(join(repoDir(), 'blobs')).sort()).toEqual(WANTED.map(etag).sort());
    expect(etag('model.safetensors')).toMatch(/^[0-9a-f]{64}$/);
    expect(etag('config.json')).toMatch(/^[0-9a-f]{40}$/);
    expect(readdirSync(join(cache, '.locks', 'models--org--tiny'))).toEqual([]);
  });

  it('reports monotonic progress that ends at the total, and asks only for the revision once cached', async () => {
    const events: DownloadProgress[] = [];
    await resolveModel('org/tiny', { onProgress: (e) => events.push({ ...e }) });
    const total = WANTED.reduce((n, f) => n + Buffer.from(FILES[f]!).length, 0);
    expect(events.every((e) => e.totalBytes === total && e.fileCount === 6 && e.repoId === 'org/tiny')).toBe(true);
    expect(events.every((e, i) => i === 0 || e.bytes >= events[i - 1]!.bytes)).toBe(true);
    expect(events[0]).toEqual({
      repoId: 'org/tiny', file: 'config.json', fileIndex: 0, fileCount: 6, fileBytes: 0, fileTotalBytes: 23, bytes: 0, totalBytes: total,
    });
    expect(events.at(-1)).toEqual({
      repoId: 'org/tiny', file: 'model.safetensors', fileIndex: 5, fileCount: 6, fileBytes: 3_000_000, fileTotalBytes: 3_000_000,
      bytes: total, totalBytes: total,
    });
    expect([...new Set(events.map((e) => e.file))]).toEqual(WANTED);

    hub.requests.length = 0;
    const again = await resolveModel('org/tiny', { onProgress: (e) => events.push(e) });
    expect(again.downloaded).toEqual([]);
    expect(hub.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual(['GET /api/models/org/tiny/revision/main']);
  });

  it('resumes a cut download with a Range request from the partial size', async () => {
    hub.cutNext('model.safetensors', 1_234_567);
    const blob = join(repoDir(), 'blobs', etag('model.safetensors'));
    const error = await resolveModel('org/tiny').then(() => undefined, (e: Error) => e);
    // the client keeps what reached the file: all 1,234,567 bytes, or fewer when the stream's error overtook chunks
    // still queued in it (seen under load)
    const partial = statSync(`${blob}.incomplete`).size;
    expect(partial).toBeGreaterThan(1_000_000);
    expect(partial).toBeLessThanOrEqual(1_234_567);
    expect(error?.message).toBe(
      `The download of model.safetensors stopped at ${partial} of 3000000 bytes (terminated); ${etag('model.safetensors')}.incomplete ` +
        'is kept and the next try resumes it',
    );
    expect(existsSync(blob)).toBe(false);
    expect(existsSync(join(repoDir(), 'snapshots', COMMIT, 'model.safetensors'))).toBe(false);

    hub.requests.length = 0;
    const events: DownloadProgress[] = [];
    const resolved = await resolveModel('org/tiny', { onProgress: (e) => events.push(e) });
    expect(resolved.downloaded).toEqual(['model.safetensors']);
    const gets = hub.requests.filter((r) => r.url.endsWith('/resolve/' + COMMIT + '/model.safetensors'));
    expect(gets.map((r) => r.range)).toEqual(['bytes=0-0', `bytes=${partial}-2999999`]);
    expect(events[0]).toMatchObject({ fileBytes: partial, bytes: partial, totalBytes: 3_000_000 });
    expect(readFileSync(blob).equals(WEIGHTS)).toBe(true);
    expect(existsSync(`${blob}.incomplete`)).toBe(false);
  });

  it('gives up on a silent hub after HF_HUB_DOWNLOAD_TIMEOUT, keeping what arrived', async () => {
    vi.stubEnv('HF_HUB_DOWNLOAD_TIMEOUT', '0.3');
    hub.stallNext('model.safetensors', 500_000);
    const blob = join(repoDir(), 'blobs', etag('model.safetensors'));
    const error = await resolveModel('org/tiny').then(() => undefined, (e: Error) => e);
    const partial = statSync(`${blob}.incomplete`).size;
    expect(partial).toBeGreaterThan(0);
    expect(error?.message).toBe(
      `The download of model.safetensors stopped at ${partial} of 3000000 bytes (no data from the hub for 0.3 s ` +
        `(HF_HUB_DOWNLOAD_TIMEOUT)); ${etag('model.safetensors')}.incomplete is kept and the next try resumes it`,
    );
    vi.stubEnv('HF_HUB_DOWNLOAD_TIMEOUT', ''); // back to 10 s: a loaded machine may pause longer than 0.3 s
    expect((await resolveModel('org/tiny')).downloaded).toEqual(['model.safetensors']);
    expect(readFileSync(blob).equals(WEIGHTS)).toBe(true);
  });

  it('takes a hub slower than HF_HUB_ETAG_TIMEOUT as unreachable', async () => {
    await resolveModel('org/tiny');
    vi.stubEnv('HF_HUB_ETAG_TIMEOUT', '0.2');
    hub.apiDelayMs = 1000;
    const warnings: string[] = [];
    const resolved = await resolveModel('org/tiny', { logger: { debug() {}, info() {}, warn: (m) => warnings.push(m) } });
    expect(resolved.source).toBe('cache');
    expect(warnings).toEqual([`${hub.url} cannot be reached: The operation was aborted due to timeout; using the cached snapshot ${resolved.dir}`]);
    // the abandoned request is not answered (nor logged) after the client gave up, so it cannot leak into later tests
    const logged = hub.requests.length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(hub.requests.length).toBe(logged);
  });

  it('starts over when the server ignores the Range request', async () => {
    hub.cutNext('model.safetensors', 1_000_000);
    await expect(resolveModel('org/tiny')).rejects.toThrow();
    hub.ignoreRanges = true;
    await resolveModel('org/tiny');
    expect(readFileSync(join(repoDir(), 'snapshots', COMMIT, 'model.safetensors')).equals(WEIGHTS)).toBe(true);
  });

  it('removes a partial file whose content is wrong, and says so', async () => {
    const blob = join(repoDir(), 'blobs', etag('model.safetensors'));
    mkdirSync(join(repoDir(), 'blobs'), { recursive: true });
    writeFileSync(`${blob}.incomplete`, Buffer.alloc(10, 1));
    await expect(resolveModel('org/tiny')).rejects.toThrow(
      /^The download of model\.safetensors is corrupt: its sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}; the partial file was removed, try again$/,
    );
    expect(existsSync(`${blob}.incomplete`)).toBe(false);
    expect((await resolveModel('org/tiny')).downloaded).toEqual(['model.safetensors']);
  });

  it('fetches each blob once when two calls race for it', async () => {
    const [a, b] = await Promise.all([resolveModel('org/tiny'), resolveModel('org/tiny')]);
    expect(a.dir).toBe(b.dir);
    const fullGets = hub.requests.filter((r) => r.url.endsWith('/model.safetensors') && r.range !== 'bytes=0-0');
    expect(fullGets.length).toBe(1);
    expect(readFileSync(join(a.dir, 'model.safetensors')).equals(WEIGHTS)).toBe(true);
  });

  it('downloads a branch by its commit and writes refs/<branch>', async () => {
    const resolved = await resolveModel('org/tiny', { revision: 'v1' });
    expect(resolved.commit).toBe(COMMIT);
    expect(readFileSync(join(repoDir(), 'refs', 'v1'), 'utf8')).toBe(COMMIT);
    expect(hub.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.url.includes(`/resolve/${COMMIT}/`))).toBe(true);
    await resolveModel('org/tiny', { revision: COMMIT });
    expect(readdirSync(join(repoDir(), 'refs')).sort()).toEqual(['v1']);
  });

  it('fetches the shards a sharded index names', async () => {
    const resolved = await resolveModel('org/sharded');
    expect(resolved.downloaded).toEqual([
      'model.safetensors.index.json', 'config.json', 'preprocessor_config.json', 'tokenizer.json',
      'added_tokens.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors',
    ]);
    expect(readFileSync(join(resolved.dir, 'model-00002-of-00002.safetensors'), 'utf8')).toBe('shard two');
    expect(readlinkSync(join(resolved.dir, 'added_tokens.json'))).toBe('../../blobs/e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'); // git's empty blob
    expect(readFileSync(join(resolved.dir, 'added_tokens.json'), 'utf8')).toBe('');
  });

  it('refuses a repo with only pickled weights before downloading anything', async () => {
    await expect(resolveModel('org/pickled')).rejects.toThrow(
      `org/pickled@main has only PyTorch pickle weights (pytorch_model.bin) in ${hub.url}/org/pickled at ${COMMIT}; this library reads ` +
        'safetensors only and never unpickles.',
    );
    expect(hub.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('sends HF_TOKEN as a bearer token, on every request', async () => {
    vi.stubEnv('HF_TOKEN', 'hf_secret');
    await resolveModel('org/tiny');
    expect(hub.requests.length).toBe(14); // model info, paths info, then a probe and a GET per file
    expect(new Set(hub.requests.map((r) => r.authorization))).toEqual(new Set(['Bearer hf_secret']));
  });

  it('reports a malformed token instead of falling back to the cache', async () => {
    await resolveModel('org/tiny');
    vi.stubEnv('HF_TOKEN', 'not-a-token');
    await expect(resolveModel('org/tiny')).rejects.toThrow("Your access token must start with 'hf_'");
  });

  it('uses the token file when HF_TOKEN is unset', async () => {
    mkdirSync(join(root, 'home'), { recursive: true });
    writeFileSync(join(root, 'home', 'token'), 'hf_fromfile\n');
    await resolveModel('org/tiny');
    expect(hub.requests[0]!.authorization).toBe('Bearer hf_fromfile');
  });

  it('asks HF_ENDPOINT for the model info, paths info and files', async () => {
    await resolveModel('org/tiny');
    expect(hub.requests.slice(0, 4).map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/models/org/tiny/revision/main?expand=pipeline_tag&expand=private&expand=gated&expand=downloads&expand=likes&expand=lastModified&expand=sha&expand=siblings',
      `POST /api/models/org/tiny/paths-info/${COMMIT}`,
      `GET /org/tiny/resolve/${COMMIT}/config.json`,
      `GET /org/tiny/resolve/${COMMIT}/config.json`,
    ]);
    expect(hub.requests[2]!.range).toBe('bytes=0-0');
  });

  it('explains a missing repo', async () => {
    await expect(resolveModel('org/missing')).rejects.toThrow(
      `Cannot get org/missing@main from ${hub.url}: Repository not found. URL: ${hub.url}/api/models/org/missing/revision/main?expand=pipeline_tag&` +
        'expand=private&expand=gated&expand=downloads&expand=likes&expand=lastModified&expand=sha&expand=siblings. If the repo is private or ' +
        'gated, accept its terms on the Hub and set HF_TOKEN (or log in with `hf auth login`)',
    );
  });

  it('falls back to the cache when the hub cannot be reached, with a warning', async () => {
    await resolveModel('org/tiny');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    vi.stubEnv('HF_ENDPOINT', `http://127.0.0.1:${port}`);
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m) };
    const resolved = await resolveModel('org/tiny', { logger });
    expect(resolved.source).toBe('cache');
    expect(warnings).toEqual([`http://127.0.0.1:${port} cannot be reached: fetch failed; using the cached snapshot ${resolved.dir}`]);
    await expect(resolveModel('org/sharded')).rejects.toThrow(
      `Cannot load org/sharded@main without the hub (http://127.0.0.1:${port} cannot be reached: fetch failed): ` +
        `${join(cache, 'models--org--sharded', 'refs', 'main')} is not in the Hugging Face cache ${cache}.`,
    );
  });

  it('stops on an abort signal and keeps the partial file', async () => {
    const controller = new AbortController();
    const promise = resolveModel('org/tiny', {
      signal: controller.signal,
      onProgress: (e) => { if (e.file === 'model.safetensors' && e.fileBytes > 0) controller.abort(); },
    });
    await expect(promise).rejects.toThrow('This operation was aborted');
    const partial = join(repoDir(), 'blobs', `${etag('model.safetensors')}.incomplete`);
    expect(statSync(partial).size).toBeGreaterThan(0);
    expect(statSync(partial).size).toBeLessThan(3_000_000);
  });
});
