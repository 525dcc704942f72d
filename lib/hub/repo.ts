/**
 * Repo ids and the folders huggingface_hub keeps for them in its cache (huggingface_hub/file_download.py):
 *
 *   <cache>/models--org--name/blobs/<etag>                 the bytes, named by the LFS sha256 or the git blob sha1
 *   <cache>/models--org--name/snapshots/<commit>/<path>    relative symlinks to ../../blobs/<etag>
 *   <cache>/models--org--name/refs/<revision>              the commit a branch or tag pointed at when last resolved
 */
import { join } from 'node:path';

/** One part of a repo id: word characters, `-` and `.`, beginning and ending with a word character (Python's `\b`). */
const PART = String.raw`\w(?:[\w.-]*\w)?`;
const REPO_ID = new RegExp(`^${PART}/${PART}$`);
const COMMIT = /^[0-9a-f]{40}$/;

/**
 * Whether `value` has the shape of a model repo id `org/name` (huggingface_hub's `validate_repo_id` with the
 * namespace required: no `--` or `..`, no `.git` ending, names of at most 96 characters).
 */
export function isRepoId(value: string): boolean {
  if (!REPO_ID.test(value) || value.includes('--') || value.includes('..') || value.endsWith('.git')) return false;
  return value.split('/').every((part) => part.length <= 96);
}

/** Whether a revision is a full commit hash (then no ref is read or written). */
export function isCommitHash(revision: string): boolean {
  return COMMIT.test(revision);
}

/** The folders of one model repo in a hub cache. */
export interface RepoCachePaths {
  /** The hub cache folder (`HF_HUB_CACHE`). */
  cacheDir: string;
  /** `<cacheDir>/models--org--name`. */
  repoDir: string;
  blobsDir: string;
  snapshotsDir: string;
  refsDir: string;
  /** Where this library's download locks live: `<cacheDir>/.locks/models--org--name`. */
  locksDir: string;
}

/** `models--org--name`, huggingface_hub's `repo_folder_name`. */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

export function repoCachePaths(cacheDir: string, repoId: string): RepoCachePaths {
  const folder = repoFolderName(repoId);
  const repoDir = join(cacheDir, folder);
  return {
    cacheDir,
    repoDir,
    blobsDir: join(repoDir, 'blobs'),
    snapshotsDir: join(repoDir, 'snapshots'),
    refsDir: join(repoDir, 'refs'),
    locksDir: join(cacheDir, '.locks', folder),
  };
}

/** The repo id of a hub cache snapshot directory (`.../models--org--name/snapshots/<commit>`), else undefined. */
export function snapshotRepoId(dir: string): string | undefined {
  const match = /(?:^|[\\/])models--([^\\/]+?)--([^\\/]+)[\\/]snapshots[\\/][0-9a-f]{40}[\\/]?$/.exec(dir);
  return match ? `${match[1]}/${match[2]}` : undefined;
}
