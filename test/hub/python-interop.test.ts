// One cache for Python and Node: Python's huggingface_hub reads what this library downloads, downloads the same
// files from the same loopback hub into the same layout byte for byte, and this library reads Python's cache.
// Needs a Python with huggingface_hub: HF_PYTHON=/path/to/python (skipped otherwise; checked with
// huggingface_hub 2.0.0).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { resolveRepo } from '../../lib/hub/resolve.js';
import { repoFromDir, startFakeHub, type FakeHub, stubHubEnv } from '../helpers/hub-server.js';
import { TINY_MODEL } from '../helpers/paths.js';

const PYTHON = process.env.HF_PYTHON;
const COMMIT = '1234567890abcdef1234567890abcdef12345678';
const SCRIPT = `
import json, sys
from huggingface_hub import scan_cache_dir, snapshot_download, try_to_load_from_cache, hf_hub_download
ours, theirs, files = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
scan = scan_cache_dir(ours)
print(json.dumps({
  'scan': [[r.repo_id, [[v.commit_hash, sorted(v.refs), sorted(f.file_name for f in v.files)] for v in r.revisions]] for r in scan.repos],
  'warnings': [str(w) for w in scan.warnings],
  'offline': snapshot_download('org/tiny', cache_dir=ours, local_files_only=True, allow_patterns=files),
  'weights': try_to_load_from_cache('org/tiny', 'model.safetensors', cache_dir=ours),
  'downloaded': [hf_hub_download('org/tiny', f, cache_dir=theirs) for f in files],
}))
`;

/** Every blob, ref (with its content) and snapshot link (with its target) of the repo's cache folder. */
function layout(cache: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(cache, path);
      const info = lstatSync(path);
      if (info.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(path)}`);
      else if (info.isDirectory()) walk(path);
      else out.push(rel.includes('/refs/') ? `${rel} = ${readFileSync(path, 'utf8')}` : `${rel} (${info.size} bytes)`);
    }
  };
  walk(join(cache, 'models--org--tiny'));
  return out;
}

describe.skipIf(!PYTHON)('Python huggingface_hub and this library share one cache', () => {
  let hub: FakeHub;
  let root: string;
  beforeAll(async () => {
    hub = await startFakeHub({ 'org/tiny': repoFromDir(TINY_MODEL, COMMIT) });
    root = mkdtempSync(join(tmpdir(), 'blip2-hub-python-'));
    stubHubEnv(hub, root);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await hub.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('each reads the other, and both lay the same files out identically', async () => {
    const ours = join(root, 'ours');
    const theirs = join(root, 'theirs');
    const resolved = await resolveRepo('org/tiny', { cacheDir: ours });
    const files = readdirSync(resolved.dir).sort();
    const { stdout } = await promisify(execFile)(PYTHON!, ['-c', SCRIPT, ours, theirs, JSON.stringify(files)], {
      env: { ...process.env, HF_HUB_DISABLE_TELEMETRY: '1', HF_HUB_DISABLE_XET: '1' },
    });
    const py = JSON.parse(stdout) as { scan: unknown; warnings: string[]; offline: string; weights: string; downloaded: string[] };
    expect(py.scan).toEqual([['org/tiny', [[COMMIT, ['main'], files]]]]);
    expect(py.warnings).toEqual([]);
    expect(py.offline).toBe(resolved.dir);
    expect(py.weights).toBe(join(resolved.dir, 'model.safetensors'));
    expect(py.downloaded).toEqual(files.map((f) => join(theirs, 'models--org--tiny', 'snapshots', COMMIT, f)));
    expect(layout(theirs)).toEqual(layout(ours));
    expect(layout(ours)).toContain(`models--org--tiny/refs/main = ${COMMIT}`);
    vi.stubEnv('HF_HUB_OFFLINE', '1');
    expect(await resolveRepo('org/tiny', { cacheDir: theirs })).toMatchObject({ source: 'cache', commit: COMMIT });
  });
});
