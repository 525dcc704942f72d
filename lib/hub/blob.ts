/**
 * One blob of the hub cache, downloaded so that a file named `blobs/<etag>` is always complete and correct:
 * the bytes go to `blobs/<etag>.incomplete` (appended to, so an interrupted download resumes where it stopped),
 * then the size and the content digest are checked — the sha256 for LFS files (it is their etag), the git blob
 * sha1 (`sha1("blob <size>\0" + bytes)`) for the others — and only then is the file renamed to `blobs/<etag>`.
 * Hashing costs one pass over the bytes while they arrive, plus a re-read of the partial file when resuming.
 * The caller holds the blob's lock (lock.ts) around {@link downloadBlob}.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, stat, truncate, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fsyncDirectory } from '../io/atomic.js';

/** What a blob must be. */
export interface BlobTarget {
  /** `<repo>/blobs/<etag>`. */
  blobPath: string;
  /** The file's path in the repo (for messages). */
  file: string;
  /** Its size in bytes. */
  size: number;
  /** `sha256` for LFS files (hex = the LFS oid), `git-sha1` for the others (hex = the git blob oid). */
  digest: { algorithm: 'sha256' | 'git-sha1'; hex: string };
}

/** The bytes of a file from `offset` on; `offset` is 0 when the server ignored the requested start. */
export interface RangeSource {
  offset: number;
  chunks: AsyncIterable<Uint8Array>;
}

/** Opens the file's bytes from `start` (an HTTP Range request when start > 0). */
export type OpenRange = (start: number) => Promise<RangeSource>;

function newHash(target: BlobTarget): Hash {
  if (target.digest.algorithm === 'sha256') return createHash('sha256');
  return createHash('sha1').update(`blob ${target.size}\0`);
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

async function hashFile(hash: Hash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/**
 * Downloads `target` into `<blobPath>.incomplete`, resuming from its current size, verifies it and renames it to
 * `blobPath`. `onBytes` gets the bytes of the file present so far (the resumed part included). A failed transfer
 * keeps the partial file for the next call; a wrong size or digest removes it.
 */
export async function downloadBlob(
  target: BlobTarget,
  openRange: OpenRange,
  onBytes: (bytes: number) => void = () => {},
  signal?: AbortSignal,
): Promise<void> {
  const partial = `${target.blobPath}.incomplete`;
  let have = await sizeOf(partial);
  if (have > target.size) {
    await truncate(partial, 0);
    have = 0;
  }
  let hash = newHash(target);
  if (have > 0) await hashFile(hash, partial);
  onBytes(have);
  const handle = await open(partial, 'a');
  try {
    if (have < target.size) {
      const source = await openRange(have);
      if (source.offset !== have) {
        // the server sent the file from its start: begin again
        await handle.truncate(0);
        have = 0;
        hash = newHash(target);
      }
      try {
        for await (const chunk of source.chunks) {
          signal?.throwIfAborted();
          if (have + chunk.length > target.size) throw new Error(`the hub sent more than ${target.size} bytes`);
          await handle.write(chunk);
          hash.update(chunk);
          have += chunk.length;
          onBytes(have);
        }
      } catch (err) {
        if (signal?.aborted) throw err;
        throw new Error(
          `The download of ${target.file} stopped at ${have} of ${target.size} bytes (${(err as Error).message}); ` +
            `${basename(partial)} is kept and the next try resumes it`,
          { cause: err },
        );
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (have !== target.size) {
    throw new Error(`The download of ${target.file} stopped at ${have} of ${target.size} bytes; ${basename(partial)} is kept and the next try resumes it`);
  }
  const actual = hash.digest('hex');
  if (actual !== target.digest.hex) {
    await unlink(partial);
    throw new Error(
      `The download of ${target.file} is corrupt: its ${target.digest.algorithm} is ${actual}, expected ${target.digest.hex}; ` +
        `the partial file was removed, try again`,
    );
  }
  await rename(partial, target.blobPath);
  await fsyncDirectory(dirname(target.blobPath));
}
