// `blip2-progressive download` and `--model org/name` against a loopback stand-in of the Hub.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register as registerDownload, downloadProgressBar } from '../../lib/cli/download.js';
import { register as registerCaption } from '../../lib/cli/caption.js';
import { modelFromFlags } from '../../lib/cli/model-flags.js';
import { UsageError } from '../../lib/cli/usage.js';
import { readRunConfig } from '../../lib/train/run-config.js';
import { repoFromDir, repoFromFiles, startFakeHub, type FakeHub, stubHubEnv } from '../helpers/hub-server.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const COMMIT = 'f'.repeat(40);
const IMAGE = join(TINY, 'images', 'img0_rgb_64x48.png');
let hub: FakeHub;
let root: string;
let cache: string;

beforeAll(async () => {
  hub = await startFakeHub({
    'org/tiny': repoFromDir(TINY_MODEL, COMMIT),
    'org/small': repoFromFiles(COMMIT, {
      'config.json': '{}', 'preprocessor_config.json': '{}', 'tokenizer.json': '{}', 'model.safetensors': Buffer.alloc(2_500_000, 7),
    }),
  });
});
afterAll(() => hub.close());
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'blip2-cli-download-'));
  cache = join(root, 'hub');
  stubHubEnv(hub, root);
  vi.stubEnv('HF_HUB_CACHE', '');
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

function capture(isTTY = false): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  let text = '';
  const stream = Object.assign(new PassThrough(), { isTTY });
  stream.on('data', (c: Buffer) => { text += c.toString(); });
  return { stream, text: () => text };
}

async function download(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const out = capture();
  const err = capture();
  const program = new Command('blip2-progressive').exitOverride();
  registerDownload(program, out.stream, err.stream);
  await program.parseAsync(['download', ...args], { from: 'user' });
  return { stdout: out.text(), stderr: err.text() };
}

describe('blip2-progressive download', () => {
  it('prints the snapshot directory on stdout and logs on stderr, with a bar when asked', async () => {
    const snapshot = join(cache, 'models--org--small', 'snapshots', COMMIT);
    const first = await download(['org/small', '--cache-dir', cache, '--progress']);
    expect(first.stdout).toBe(`${snapshot}\n`);
    const lines = first.stderr.replace(/ [\d.]+ MB\/s in \d+s/g, ' R MB/s in T').split('\n');
    expect(lines[0]).toBe(`org/small@main: downloading 4 files (2.5 MB) into ${snapshot}`);
    expect(lines.at(-3)).toBe('download org/small [####################] 3/3 R MB/s in T');
    expect(lines.at(-2)).toBe(`org/small@main: 4 files downloaded, commit ${COMMIT}`);
    expect(readFileSync(join(snapshot, 'model.safetensors')).length).toBe(2_500_000);

    const second = await download(['org/small', '--cache-dir', cache]);
    expect(second).toEqual({ stdout: `${snapshot}\n`, stderr: `org/small@main: already in the cache, commit ${COMMIT}\n` });
  });

  it('uses HF_HUB_CACHE and a revision', async () => {
    vi.stubEnv('HF_HUB_CACHE', cache);
    const { stdout } = await download(['org/small', '--revision', COMMIT]);
    expect(stdout).toBe(`${join(cache, 'models--org--small', 'snapshots', COMMIT)}\n`);
    expect(existsSync(join(cache, 'models--org--small', 'refs'))).toBe(false);
  });

  it('wants a repo id', async () => {
    await expect(download(['./models/blip2'])).rejects.toThrow(
      new UsageError('download expects a Hugging Face repo id (org/name) but received "./models/blip2"'),
    );
  });

  it('draws the bar in megabytes, once per megabyte, on a terminal only', () => {
    expect(downloadProgressBar(capture(false).stream, false)).toBe(undefined);
    const tty = capture(true);
    const update = downloadProgressBar(tty.stream, false)!;
    const event = { repoId: 'org/x', file: 'f', fileIndex: 0, fileCount: 1, fileTotalBytes: 2_500_000, totalBytes: 2_500_000 };
    for (const bytes of [0, 10, 999_999, 1_000_000, 2_000_000, 2_400_000, 2_500_000]) update({ ...event, fileBytes: bytes, bytes });
    const frames = tty.text().split('\r').filter(Boolean).map((f) => f.replace(/ [\d.]+ MB\/s (ETA|in) \S+/, ''));
    expect(frames.map((f) => f.trimEnd())).toEqual([
      'download org/x [--------------------] 0/3',
      'download org/x [#######-------------] 1/3',
      'download org/x [#############-------] 2/3',
      'download org/x [####################] 3/3',
    ]);
  });
});

describe('--model org/name', () => {
  it('caption downloads the model into the cache and captions with it, as with the directory', async () => {
    const run = async (model: string[]) => {
      const out = capture();
      const program = new Command('blip2-progressive').exitOverride();
      registerCaption(program, out.stream);
      await program.parseAsync(['caption', IMAGE, ...model, '--threads', '1', '--max-new-tokens', '6'], { from: 'user' });
      return out.text();
    };
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const expected = await run(['--model', TINY_MODEL]);
      expect(await run(['--model', 'org/tiny', '--cache-dir', cache])).toBe(expected);
      expect(existsSync(join(cache, 'models--org--tiny', 'snapshots', COMMIT, 'model.safetensors'))).toBe(true);
      await hub.close().then(async () => {
        expect(await run(['--model', 'org/tiny', '--cache-dir', cache, '--offline'])).toBe(expected);
      });
      expect(stderr.mock.calls.map((c) => String(c[0])).find((m) => m.includes('downloading'))).toBe(
        `org/tiny@main: downloading 8 files (2.0 MB) into ${join(cache, 'models--org--tiny', 'snapshots', COMMIT)}\n`,
      );
    } finally {
      stderr.mockRestore();
      hub = await startFakeHub(Object.fromEntries(hub.repos));
    }
  });

  it('warns that --revision does nothing for a directory', async () => {
    const err = capture();
    expect((await modelFromFlags({ model: TINY_MODEL, revision: 'v1' }, err.stream)).dir).toBe(TINY_MODEL);
    expect(err.text()).toBe(`warning: --revision applies to a repo id; ${TINY_MODEL} is a directory, loaded as it is\n`);
  });

  it('a run config keeps a repo id unless a directory of that name sits beside it', async () => {
    const config = join(root, 'run.json');
    const data = { train: { file: 'train.json' }, val: { file: 'val.json' } };
    writeFileSync(config, JSON.stringify({ model: 'org/tiny', data, stages: [{ name: 'lora', epochs: 1, lr: 1e-4 }] }));
    expect((await readRunConfig(config)).model).toBe('org/tiny');
    mkdirSync(join(root, 'org', 'tiny'), { recursive: true });
    expect((await readRunConfig(config)).model).toBe(join(root, 'org', 'tiny'));
  });
});
