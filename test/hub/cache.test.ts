// Resolving repo ids from a huggingface_hub cache built by hand, with no network at all.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModel } from '../../lib/hub/resolve.js';
import { hubCacheDir, hubEndpoint, hubToken, isOfflineEnv } from '../../lib/hub/env.js';
import { isRepoId, repoFolderName } from '../../lib/hub/repo.js';
import { MINIMAL_FILES, writeCachedSnapshot } from '../helpers/hub-cache.js';
import { sha256 } from '../helpers/hub-server.js';

const MAIN = 'a'.repeat(40);
const TAGGED = 'b'.repeat(40);
let root: string;
let cache: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'blip2-hub-cache-'));
  cache = join(root, 'hub');
  vi.stubEnv('HF_HUB_OFFLINE', '1');
  vi.stubEnv('HF_HUB_CACHE', cache);
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

describe('offline resolution', () => {
  it('follows refs/main to the snapshot', async () => {
    const snapshot = writeCachedSnapshot(cache, 'org/tiny', MAIN, MINIMAL_FILES);
    expect(snapshot).toBe(join(cache, 'models--org--tiny', 'snapshots', MAIN));
    expect(await resolveModel('org/tiny')).toEqual({
      dir: snapshot, source: 'cache', repoId: 'org/tiny', revision: 'main', commit: MAIN, downloaded: [],
    });
  });

  it('takes a commit hash as the revision without reading refs', async () => {
    const snapshot = writeCachedSnapshot(cache, 'org/tiny', TAGGED, MINIMAL_FILES, {});
    const resolved = await resolveModel('org/tiny', { revision: TAGGED });
    expect(resolved.dir).toBe(snapshot);
    expect(resolved.commit).toBe(TAGGED);
  });

  it('follows a named revision through refs/<name>, nested names included', async () => {
    writeCachedSnapshot(cache, 'org/tiny', MAIN, MINIMAL_FILES);
    const tagged = writeCachedSnapshot(cache, 'org/tiny', TAGGED, MINIMAL_FILES, { 'v1.0': TAGGED, 'refs/pr/3': TAGGED });
    expect((await resolveModel('org/tiny', { revision: 'v1.0' })).dir).toBe(tagged);
    expect((await resolveModel('org/tiny', { revision: 'refs/pr/3' })).dir).toBe(tagged);
  });

  it('names the missing ref, the cache and the command that fixes it', async () => {
    writeCachedSnapshot(cache, 'org/tiny', MAIN, MINIMAL_FILES);
    await expect(resolveModel('org/tiny', { revision: 'v2' })).rejects.toThrow(
      `Cannot load org/tiny@v2 without the hub (HF_HUB_OFFLINE is set): ${join(cache, 'models--org--tiny', 'refs', 'v2')} ` +
        `is not in the Hugging Face cache ${cache}. Run \`blip2-progressive download org/tiny --revision v2\` while online`,
    );
    await expect(resolveModel('org/other')).rejects.toThrow(
      `${join(cache, 'models--org--other', 'refs', 'main')} is not in the Hugging Face cache ${cache}. ` +
        'Run `blip2-progressive download org/other` while online',
    );
  });

  it('refuses a ref that holds no commit hash', async () => {
    writeCachedSnapshot(cache, 'org/tiny', MAIN, MINIMAL_FILES, { main: '../../../elsewhere' });
    await expect(resolveModel('org/tiny')).rejects.toThrow(
      `${join(cache, 'models--org--tiny', 'refs', 'main')} holds no commit hash but "../../../elsewhere"`,
    );
  });

  it('names a missing file, and a file whose blob is gone', async () => {
    const { 'tokenizer.json': _, ...withoutTokenizer } = MINIMAL_FILES;
    const snapshot = writeCachedSnapshot(cache, 'org/tiny', MAIN, withoutTokenizer);
    const other = join(root, 'other');
    await expect(resolveModel('org/tiny', { offline: true, cacheDir: other })).rejects.toThrow(
      `Cannot load org/tiny@main without the hub (offline: true): ${join(other, 'models--org--tiny', 'refs', 'main')} is not in the ` +
        `Hugging Face cache ${other}. Run \`blip2-progressive download org/tiny --cache-dir ${other}\` while online`,
    );
    await expect(resolveModel('org/tiny')).rejects.toThrow(`: ${join(snapshot, 'tokenizer.json')} is not in the Hugging Face cache`);
    writeCachedSnapshot(cache, 'org/tiny', MAIN, { 'tokenizer.json': '{}' });
    unlinkSync(join(cache, 'models--org--tiny', 'blobs', sha256(Buffer.from('weights')))); // the weights' blob (an LFS file: its sha256)
    await expect(resolveModel('org/tiny')).rejects.toThrow(`: ${join(snapshot, 'model.safetensors')} is not in the Hugging Face cache`);
  });

  it('checks every shard of a sharded checkpoint', async () => {
    const index = JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } });
    const { 'model.safetensors': _, ...config } = MINIMAL_FILES;
    const snapshot = writeCachedSnapshot(cache, 'org/sharded', MAIN, {
      ...config, 'model.safetensors.index.json': index, 'model-00001-of-00002.safetensors': 'one',
    });
    await expect(resolveModel('org/sharded')).rejects.toThrow(`: ${join(snapshot, 'model-00002-of-00002.safetensors')} is not in the Hugging Face cache`);
    writeCachedSnapshot(cache, 'org/sharded', MAIN, { 'model-00002-of-00002.safetensors': 'two' });
    expect((await resolveModel('org/sharded')).dir).toBe(snapshot);
  });

  it('explains how to convert pickle-only weights', async () => {
    const { 'model.safetensors': _, ...config } = MINIMAL_FILES;
    const snapshot = writeCachedSnapshot(cache, 'org/pickled', MAIN, { ...config, 'pytorch_model.bin': 'pickle' });
    await expect(resolveModel('org/pickled')).rejects.toThrow(
      `org/pickled@main has only PyTorch pickle weights (pytorch_model.bin) in ${snapshot}; this library reads safetensors only and never ` +
        'unpickles. Pick a revision or repo that has model.safetensors, or convert once with Python: python -c "from transformers import ' +
        "Blip2ForConditionalGeneration as M, Blip2Processor as P; M.from_pretrained('org/pickled', revision='main').save_pretrained(" +
        "'blip2-safetensors', safe_serialization=True); P.from_pretrained('org/pickled', revision='main').save_pretrained('blip2-safetensors')\" " +
        'and pass the directory blip2-safetensors',
    );
  });

  it('lets an existing directory win over a repo id of the same spelling', async () => {
    writeCachedSnapshot(cache, 'org/tiny', MAIN, MINIMAL_FILES);
    const cwd = process.cwd();
    process.chdir(root);
    try {
      expect((await resolveModel('org/tiny')).source).toBe('cache');
      mkdirSync(join(root, 'org', 'tiny'), { recursive: true });
      expect(await resolveModel('org/tiny')).toEqual({ dir: 'org/tiny', source: 'directory', downloaded: [] });
    } finally {
      process.chdir(cwd);
    }
  });

  it('passes strings that are not repo ids through as directories', async () => {
    for (const dir of ['./org/tiny', '/models/blip2', 'blip2', 'a/b/c', 'org--x/y', 'org/y.git', '../up']) {
      expect(await resolveModel(dir)).toEqual({ dir, source: 'directory', downloaded: [] });
    }
  });

  it('rejects bad options in the house format', async () => {
    await expect(resolveModel('org/tiny', { revison: 'main' } as never)).rejects.toThrow(
      'Unknown option "revison" in options; expected one of "revision", "cacheDir", "offline", "onProgress", "signal", "logger"',
    );
    await expect(resolveModel('org/tiny', { revision: '' })).rejects.toThrow('Expected non-empty string for revision but received "" of type string');
    await expect(resolveModel('org/tiny', { revision: '../../x' })).rejects.toThrow(
      'Expected branch, tag or commit hash for revision but received "../../x" of type string',
    );
    await expect(resolveModel('org/tiny', { offline: 1 } as never)).rejects.toThrow('Expected boolean for offline but received 1 of type number');
    await expect(resolveModel('org/tiny', { onProgress: 'x' } as never)).rejects.toThrow('Expected function for onProgress but received "x" of type string');
    await expect(resolveModel('' as string)).rejects.toThrow('Expected model directory or Hugging Face repo id for model but received "" of type string');
  });
});

describe('the Hugging Face environment', () => {
  it('finds the cache as Python does: option, HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME, ~', () => {
    expect(hubCacheDir('/opt/c', { HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/opt/c');
    expect(hubCacheDir(undefined, { HF_HUB_CACHE: '/a', HUGGINGFACE_HUB_CACHE: '/old', HF_HOME: '/b' })).toBe('/a');
    expect(hubCacheDir(undefined, { HUGGINGFACE_HUB_CACHE: '/old', HF_HOME: '/b' })).toBe('/old');
    expect(hubCacheDir(undefined, { HF_HOME: '/b', XDG_CACHE_HOME: '/x' })).toBe('/b/hub');
    expect(hubCacheDir(undefined, { XDG_CACHE_HOME: '/x' })).toBe('/x/huggingface/hub');
    expect(hubCacheDir(undefined, {})).toBe(join(homedir(), '.cache', 'huggingface', 'hub'));
    expect(hubCacheDir(undefined, { HF_HOME: '~/hf' })).toBe(join(homedir(), 'hf', 'hub'));
    expect(hubCacheDir(undefined, { HF_HUB_CACHE: '', HF_HOME: '/b' })).toBe('/b/hub');
  });

  it('reads HF_HUB_OFFLINE like Python (1, true, yes, on)', () => {
    for (const v of ['1', 'true', 'TRUE', 'yes', 'On']) expect(isOfflineEnv({ HF_HUB_OFFLINE: v })).toBe(true);
    for (const v of ['0', 'false', 'no', '', undefined]) expect(isOfflineEnv({ HF_HUB_OFFLINE: v })).toBe(false);
    expect(isOfflineEnv({ TRANSFORMERS_OFFLINE: '1' })).toBe(true);
  });

  it('takes HF_ENDPOINT without its trailing slash', () => {
    expect(hubEndpoint({})).toBe('https://huggingface.co');
    expect(hubEndpoint({ HF_ENDPOINT: 'https://hf-mirror.com/' })).toBe('https://hf-mirror.com');
  });

  it('takes the token from HF_TOKEN, else the token file', async () => {
    const home = join(root, 'hf-home');
    mkdirSync(home, { recursive: true });
    expect(await hubToken({ HF_HOME: home })).toBe(undefined);
    writeFileSync(join(home, 'token'), 'hf_fromfile\n');
    expect(await hubToken({ HF_HOME: home })).toBe('hf_fromfile');
    expect(await hubToken({ HF_HOME: home, HF_TOKEN: 'hf_fromenv' })).toBe('hf_fromenv');
    writeFileSync(join(root, 'elsewhere'), 'hf_path');
    expect(await hubToken({ HF_HOME: home, HF_TOKEN_PATH: join(root, 'elsewhere') })).toBe('hf_path');
  });

  it('knows a repo id and its cache folder', () => {
    expect(['Salesforce/blip2-flan-t5-xl', 'org/tiny', 'a_b/c.d-e'].map(isRepoId)).toEqual([true, true, true]);
    expect(['blip2', 'a/b/c', '-a/b', 'a/b-', 'a--b/c', 'a/b..c', 'a/b.git', 'a/' + 'x'.repeat(97)].map(isRepoId)).toEqual(
      [false, false, false, false, false, false, false, false],
    );
    expect(repoFolderName('Salesforce/blip2-flan-t5-xl')).toBe('models--Salesforce--blip2-flan-t5-xl');
  });
});
