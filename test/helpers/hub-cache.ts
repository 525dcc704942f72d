/**
 * Builds a huggingface_hub cache by hand, as Python's huggingface_hub lays it out: blobs named by etag,
 * snapshot files as relative symlinks into ../../blobs, refs/<revision> holding the commit (no newline).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { etagOf, type HubFile } from './hub-server.js';

export function writeCachedSnapshot(
  cacheDir: string,
  repoId: string,
  commit: string,
  contents: Record<string, string | Buffer>,
  refs: Record<string, string> = { main: commit },
): string {
  const repoDir = join(cacheDir, `models--${repoId.replace('/', '--')}`);
  const snapshot = join(repoDir, 'snapshots', commit);
  mkdirSync(join(repoDir, 'blobs'), { recursive: true });
  for (const [name, content] of Object.entries(contents)) {
    const file: HubFile = { bytes: typeof content === 'string' ? Buffer.from(content) : content, lfs: /\.(safetensors|bin)$/.test(name) };
    const blob = join(repoDir, 'blobs', etagOf(file));
    writeFileSync(blob, file.bytes);
    const link = join(snapshot, name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), blob), link);
  }
  for (const [ref, target] of Object.entries(refs)) {
    mkdirSync(dirname(join(repoDir, 'refs', ref)), { recursive: true });
    writeFileSync(join(repoDir, 'refs', ref), target);
  }
  return snapshot;
}

/** The files of a loadable snapshot, with placeholder contents (resolution does not parse them). */
export const MINIMAL_FILES: Record<string, string> = {
  'config.json': '{}',
  'preprocessor_config.json': '{}',
  'tokenizer.json': '{}',
  'model.safetensors': 'weights',
};
