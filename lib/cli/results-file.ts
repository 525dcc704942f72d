/**
 * COCO results files (`[{"image_id": 391895, "caption": "..."}]`, what pycocotools' `loadRes` and `eval --preds`
 * read) from image paths: each image's id comes from an annotation file (`--refs`: `images[].file_name` → `id`) or
 * from the digits in its file name (`COCO_val2014_000000391895.jpg` → 391895, `VizWiz_val_00000123.jpg` → 123).
 * Ids are worked out before any model loads, so a name without an id fails at once.
 */
import { loadReferences, type Id } from '../metrics/loaders.js';
import { writeFileAtomic } from '../io/atomic.js';
import { UsageError } from './usage.js';

/** One line of a COCO results file. */
export interface ResultEntry {
  image_id: Id;
  caption: string;
}

/** How many offending names an error lists. */
const LISTED = 5;

const baseName = (path: string) => path.replace(/^.*[\\/]/, '');
const stem = (name: string) => name.replace(/\.[^.]*$/, '');

function listed(names: readonly string[]): string {
  return names.slice(0, LISTED).map((n) => JSON.stringify(n)).join(', ') + (names.length > LISTED ? ', …' : '');
}

/** The image id in a file name: its last run of digits, before the extension (undefined when it has none). */
export function idFromFileName(path: string): number | undefined {
  const digits = /(\d+)\D*$/.exec(stem(baseName(path)))?.[1];
  if (digits === undefined) return undefined;
  const id = Number(digits);
  return Number.isSafeInteger(id) ? id : undefined;
}

/** Ids from file names; a name without digits is a usage error. */
function idsFromNames(images: readonly string[]): Id[] {
  const ids = images.map(idFromFileName);
  const without = images.filter((_, i) => ids[i] === undefined);
  if (without.length > 0) {
    throw new UsageError(`--out needs an image id for every image: ${without.length} file name(s) hold no number to take it from (${listed(without)}); ` +
      'pass --refs <annotations> to take ids from an annotation file (images[].file_name → id)');
  }
  return ids as number[];
}

/** Ids from an annotation file's image file names (exact base name, else without its extension). */
async function idsFromRefs(images: readonly string[], refs: string): Promise<Id[]> {
  let fileNames: Map<string, Id>;
  try {
    fileNames = (await loadReferences(refs)).fileNames;
  } catch (err) {
    throw new UsageError(`--refs ${refs}: ${(err as Error).message}`);
  }
  if (fileNames.size === 0) {
    throw new UsageError(`--refs ${refs} names no image files: expected COCO or VizWiz annotations (images[].file_name) or the processed json (image)`);
  }
  const byStem = new Map<string, Id>();
  for (const [name, id] of fileNames) if (!byStem.has(stem(name))) byStem.set(stem(name), id);
  const ids = images.map((image) => fileNames.get(baseName(image)) ?? byStem.get(stem(baseName(image))));
  const unknown = images.filter((_, i) => ids[i] === undefined);
  if (unknown.length > 0) throw new UsageError(`${unknown.length} image(s) are not in --refs ${refs} (by file name): ${listed(unknown)}`);
  return ids as Id[];
}

/**
 * The image id of every image (see the module comment); a name without an id, or two images with one id, is a
 * usage error naming them.
 */
export async function imageIds(images: readonly string[], refs?: string): Promise<Id[]> {
  const ids = refs === undefined ? idsFromNames(images) : await idsFromRefs(images, refs);
  const first = new Map<string, number>();
  ids.forEach((id, i) => {
    const seen = first.get(String(id));
    if (seen === undefined) {
      first.set(String(id), i);
      return;
    }
    const [a, b] = [images[seen]!, images[i]!];
    throw new UsageError(a === b
      ? `${JSON.stringify(a)} is given twice; a results file holds one caption per image`
      : `${JSON.stringify(a)} and ${JSON.stringify(b)} both give image id ${JSON.stringify(id)}${refs === undefined ? ' (from the digits in their names); pass --refs <annotations> to map names to ids' : ` in --refs ${refs}`}`);
  });
  return ids;
}

/** Writes a COCO results file (atomically), one entry a line. */
export async function writeResultsFile(path: string, entries: readonly ResultEntry[]): Promise<void> {
  const lines = entries.map((e) => `  ${JSON.stringify({ image_id: e.image_id, caption: e.caption })}`);
  await writeFileAtomic(path, lines.length === 0 ? '[]\n' : `[\n${lines.join(',\n')}\n]\n`);
}
