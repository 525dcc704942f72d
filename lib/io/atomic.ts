/** Atomic file writes: a temporary file in the same directory, fsync, rename, then fsync of the directory. */
import { appendFile, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The error of a failed write, naming the file: Node's write errors name none ("ENOSPC: no space left on device,
 * write"). The code (ENOSPC, ENOTDIR, ...) is kept and the original error is the cause.
 */
export function writeError(path: string, err: unknown): Error {
  const cause = err as NodeJS.ErrnoException;
  const error: NodeJS.ErrnoException = new Error(`Cannot write ${path}: ${cause.message}`, { cause });
  if (cause.code !== undefined) error.code = cause.code;
  return error;
}

/** Appends `text` to `path`; an error names the file. */
export async function appendFileNamed(path: string, text: string): Promise<void> {
  try {
    await appendFile(path, text);
  } catch (err) {
    throw writeError(path, err);
  }
}

/** Writes `data` to `path` so that readers see the old file or the whole new one, never a partial write. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeThroughTemporary(path, data);
  } catch (err) {
    throw writeError(path, err);
  }
}

async function writeThroughTemporary(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDirectory(dirname(path));
}

/** fsync a directory so a rename inside it survives a crash. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
