// The tiny fixture model served by a loopback hub: loaded by repo id, then again offline with no server.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Captioner } from '../../lib/captioner.js';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import type { DownloadProgress } from '../../lib/hub/resolve.js';
import { repoFromDir, startFakeHub, type FakeHub, stubHubEnv } from '../helpers/hub-server.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const COMMIT = 'e'.repeat(40);
const IMAGE = join(TINY, 'images', 'img0_rgb_64x48.png');
let hub: FakeHub;
let root: string;
let cache: string;

beforeAll(async () => {
  hub = await startFakeHub({ 'org/tiny': repoFromDir(TINY_MODEL, COMMIT) });
  root = mkdtempSync(join(tmpdir(), 'blip2-hub-e2e-'));
  cache = join(root, 'hub');
  stubHubEnv(hub, root);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

async function greedyCaption(captioner: Blip2Captioner) {
  try {
    const [caption] = await captioner.caption([IMAGE], { maxNewTokens: 8 });
    return caption!;
  } finally {
    captioner.dispose();
  }
}

describe('a model by repo id', () => {
  it('downloads, loads and captions as the local directory does, then loads offline with no server', async () => {
    const expected = await greedyCaption(await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 }));
    const events: DownloadProgress[] = [];
    const messages: string[] = [];
    const logger = { debug() {}, info: (m: string) => messages.push(m), warn: (m: string) => messages.push(`warn ${m}`) };
    const online = await Blip2Captioner.fromPretrained('org/tiny', { cacheDir: cache, threads: 1, logger, onProgress: (e) => events.push(e) });
    const snapshot = join(cache, 'models--org--tiny', 'snapshots', COMMIT);
    expect(readdirSync(snapshot).sort()).toEqual([
      'added_tokens.json', 'config.json', 'generation_config.json', 'model.safetensors', 'preprocessor_config.json',
      'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json',
    ]);
    expect(messages[0]).toBe(`org/tiny@main: downloading 8 files (2.0 MB) into ${snapshot}`);
    expect(messages[1]!.replace(/[\d.]+ s$/, 'T s')).toBe(`loaded org/tiny (${snapshot}): 360,576 parameters, float32 on cpu, 1 threads, T s`);
    expect(events.at(-1)).toMatchObject({ bytes: 1_955_089, totalBytes: 1_955_089, fileCount: 8 });
    expect(online.generationOptions).toEqual((await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 }).then((c) => {
      c.dispose();
      return c.generationOptions;
    })));
    expect(await greedyCaption(online)).toEqual(expected);

    await hub.close();
    vi.stubEnv('HF_HUB_OFFLINE', '1');
    expect(await greedyCaption(await Blip2Captioner.fromPretrained('org/tiny', { cacheDir: cache, threads: 1 }))).toEqual(expected);
    const model = await Blip2Model.load('org/tiny', { cacheDir: cache, threads: 1, revision: COMMIT });
    expect(model.config.text_config.vocab_size).toBe(4128);
    model.dispose();
  });
});
