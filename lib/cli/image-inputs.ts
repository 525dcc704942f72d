/**
 * The image arguments of `caption`, expanded and checked before any model loads:
 * - a file is taken as given (whatever its extension);
 * - a directory gives its image files (by extension, see {@link IMAGE_EXTENSIONS}), sorted by name; its subfolders
 *   and hidden files are not read (a glob such as 'photos/**\/*.jpg' reaches into subfolders);
 * - a quoted glob pattern (`*`, `**`, `?`, `[…]`, `{a,b}`, as tinyglobby reads them) gives the image files it
 *   matches, sorted by path.
 * Arguments keep their order. A path that does not exist, or a directory or pattern that gives no image, is a
 * usage error naming the argument.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, isAbsolute, join } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { UsageError } from './usage.js';

/** File extensions read as images from directories and glob patterns (the formats sharp decodes here). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'] as const;

/** How many missing paths a usage error lists. */
const LISTED = 5;

/** Whether a file name has one of {@link IMAGE_EXTENSIONS} (any case). */
export function isImageFile(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function kindOf(path: string): Promise<'file' | 'directory' | undefined> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'file';
  } catch {
    return undefined;
  }
}

async function directoryImages(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => !name.startsWith('.') && isImageFile(name)).sort(byCodeUnits);
  const files: string[] = [];
  for (const name of names) if ((await kindOf(join(dir, name))) === 'file') files.push(join(dir, name));
  if (files.length === 0) {
    throw new UsageError(`${JSON.stringify(dir)} is a directory without image files (${IMAGE_EXTENSIONS.join(' ')}); ` +
      `its subfolders are not read: quote a glob such as '${join(dir, '**', '*.jpg')}' for them`);
  }
  return files;
}

async function patternImages(pattern: string): Promise<string[]> {
  const matches = await glob(pattern, { expandDirectories: false, onlyFiles: true, absolute: isAbsolute(pattern) });
  const images = matches.filter(isImageFile).sort(byCodeUnits);
  if (images.length === 0) {
    throw new UsageError(matches.length === 0
      ? `the pattern ${JSON.stringify(pattern)} matches no file`
      : `the pattern ${JSON.stringify(pattern)} matches ${matches.length} file(s) but no image file (${IMAGE_EXTENSIONS.join(' ')})`);
  }
  return images;
}

/** The image files that `args` name, in argument order (see the module comment); a usage error names a bad one. */
export async function expandImageArgs(args: readonly string[]): Promise<string[]> {
  const images: string[] = [];
  const missing: string[] = [];
  for (const arg of args) {
    const kind = await kindOf(arg);
    if (kind === 'file') images.push(arg);
    else if (kind === 'directory') images.push(...(await directoryImages(arg)));
    else if (isDynamicPattern(arg)) images.push(...(await patternImages(arg)));
    else missing.push(arg);
  }
  if (missing.length > 0) throw missingImagesError(missing);
  return images;
}

/**
 * Checks that every argument is an existing file, before any model loads (commands such as `score`, which pair each
 * image with a flag, take files only): a usage error lists the missing ones, or names a directory.
 */
export async function checkImageFiles(args: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const arg of args) {
    const kind = await kindOf(arg);
    if (kind === 'directory') throw new UsageError(`${JSON.stringify(arg)} is a directory; give its image files, one per --caption`);
    if (kind === undefined) missing.push(arg);
  }
  if (missing.length > 0) throw missingImagesError(missing);
}

function missingImagesError(missing: readonly string[]): UsageError {
  const listed = missing.slice(0, LISTED).map((m) => JSON.stringify(m)).join(', ') + (missing.length > LISTED ? ', …' : '');
  return new UsageError(missing.length === 1 ? `no such image file: ${listed}` : `${missing.length} image files do not exist: ${listed}`);
}
