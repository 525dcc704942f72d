/**
 * Readers for the caption files cocoEval takes: COCO annotation files, COCO result files,
 * VizWiz-Captions annotation files and the paper's processed json. Each returns captions grouped
 * by image id in file order (the order pycocoevalcap evaluates in).
 */
import { describe, invalidParameterError, isPlainObject } from '../is.js';
import { ArgumentError, FileError } from '../errors.js';
import { describeJsonError, readJsonFile, readTextFile } from '../io/json.js';

/** Image id → captions, in evaluation order. Ids keep their JSON type (COCO ids are numbers). */
export type CaptionMap = Map<string | number, string[]>;

/** An image id as caption files write it: a JSON number or string. */
export type Id = string | number;

/**
 * References as {@link referencesFromJson} returns them: image id → captions, in file order, plus
 * the image file names the file gives (`images[].file_name` of COCO and VizWiz annotations, the
 * processed json's `image`), so predictions keyed by file name can be matched to image ids.
 */
export class ReferenceMap extends Map<Id, string[]> {
  /** Image file base name (for example `VizWiz_val_00000001.jpg`) → image id. */
  readonly fileNames = new Map<string, Id>();
}

/** The last path component of a file name (`a/b/x.jpg` → `x.jpg`). */
export function baseName(file: string): string {
  return file.replace(/^.*[\\/]/, '');
}

/** True for a usable image id: a finite number or a string. */
export function isId(v: unknown): v is Id {
  return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string';
}

/** The error for a malformed caption file or object: `Expected <what> in <source> but received <value>`. */
export function badFile(source: string, expected: string, value: unknown): ArgumentError {
  return new ArgumentError(`Expected ${expected} in ${source} but received ${describe(value)}`, { argument: source });
}

function push(map: CaptionMap, id: Id, caption: string): void {
  const list = map.get(id);
  if (list === undefined) map.set(id, [caption]);
  else list.push(caption);
}

/**
 * Reads `{image_id, caption}` records (COCO annotations or results), checking their types, and appends the
 * captions `keep` accepts to `into`, grouped by image id.
 */
export function collect(records: unknown[], source: string, into: CaptionMap, keep: (rec: Record<string, unknown>) => boolean = () => true,
  idKey: 'image_id' | 'id' = 'image_id'): CaptionMap {
  records.forEach((rec, i) => {
    if (!isPlainObject(rec)) throw badFile(source, `an object at [${i}]`, rec);
    const id = rec[idKey];
    if (!isId(id)) throw badFile(source, `a number or string ${idKey} at [${i}]`, id);
    if (typeof rec.caption !== 'string') throw badFile(source, `a string caption at [${i}]`, rec.caption);
    if (keep(rec)) push(into, id, rec.caption);
  });
  return into;
}

/** Starts a map with the `images` list order (COCO/VizWiz), so images keep the file's order. */
function imagesOrder(images: unknown, source: string): ReferenceMap {
  const map = new ReferenceMap();
  if (images === undefined) return map;
  if (!Array.isArray(images)) throw badFile(source, 'an images array', images);
  images.forEach((img, i) => {
    if (!isPlainObject(img) || !isId(img.id)) throw badFile(source, `an image with a number or string id at images[${i}]`, img);
    map.set(img.id, []);
    if (typeof img.file_name === 'string') map.fileNames.set(baseName(img.file_name), img.id);
  });
  return map;
}

/**
 * References from parsed JSON, detecting the format:
 * - COCO annotations `{"images"?: [{id}], "annotations": [{image_id, caption}]}`;
 * - VizWiz-Captions (annotations carry `is_rejected` / `is_precanned`): rejected and precanned
 *   captions are dropped, as the VizWiz evaluation does;
 * - the paper's processed json `[{"image", "image_id", "captions": [...]}]`;
 * - a COCO result-style list `[{image_id, caption}]`.
 * Images listed in `images` but without a caption keep an empty list (an error if evaluated).
 * The image file names the file gives are kept in {@link ReferenceMap.fileNames}.
 *
 * @param json parsed file content.
 * @param source name used in error messages (usually the file path).
 */
export function referencesFromJson(json: unknown, source = 'references'): ReferenceMap {
  if (isPlainObject(json) && Array.isArray(json.annotations)) {
    const anns = json.annotations as unknown[];
    const map = imagesOrder(json.images, source);
    collect(anns, source, map, isVizWizAnnotations(anns) ? isVizWizReference : undefined);
    return map;
  }
  if (Array.isArray(json)) {
    const map = new ReferenceMap();
    if (json.length > 0 && isPlainObject(json[0]) && 'captions' in json[0]) {
      json.forEach((item, i) => {
        if (!isPlainObject(item) || !isId(item.image_id)) throw badFile(source, `an item with a number or string image_id at [${i}]`, item);
        const caps = item.captions;
        if (!Array.isArray(caps) || caps.some((c) => typeof c !== 'string')) throw badFile(source, `a captions array of strings at [${i}]`, caps);
        for (const c of caps as string[]) push(map, item.image_id, c);
        if (!map.has(item.image_id)) map.set(item.image_id, []);
        if (typeof item.image === 'string') map.fileNames.set(baseName(item.image), item.image_id);
      });
      return map;
    }
    collect(json, source, map);
    return map;
  }
  throw badFile(source, 'COCO annotations, VizWiz-Captions annotations or a processed caption list', json);
}

/** The prediction formats {@link loadPredictions} reads, as its errors name them. */
export const PREDICTION_FORMATS = 'a COCO results file [{"image_id", "caption"}], the paper\'s [{"id", "caption"}], an object ' +
  '{"<image_id>": "caption"}, or JSON lines: `blip2-progressive caption --json` output {"image", "captions": [...]} or {"image_id", "caption"}';

/**
 * Predictions from parsed JSON: a COCO result file `[{image_id, caption}]` (the format
 * `loadRes` reads), the paper's `[{id, caption}]` (`inference/eval_utils.py`; ids often image file
 * names, which cocoEval matches to the references' file names), a plain object
 * `{"<image_id>": "caption"}`, or one line of `caption --json` output (see {@link predictionsFromJsonLines}).
 */
export function predictionsFromJson(json: unknown, source = 'predictions'): CaptionMap {
  if (isPlainObject(json) && 'image' in json && ('captions' in json || 'error' in json)) return predictionsFromJsonLines(JSON.stringify(json), source);
  if (Array.isArray(json)) {
    const first: unknown = json[0];
    if (json.length > 0 && !(isPlainObject(first) && 'caption' in first)) throw badFile(source, PREDICTION_FORMATS, json);
    const idKey = isPlainObject(first) && !('image_id' in first) && 'id' in first ? 'id' : 'image_id';
    return collect(json, source, new Map(), undefined, idKey);
  }
  if (isPlainObject(json) && !('annotations' in json)) {
    const map: CaptionMap = new Map();
    for (const [id, caption] of Object.entries(json)) {
      if (typeof caption !== 'string') throw badFile(source, `a string caption for image ${JSON.stringify(id)}`, caption);
      map.set(id, [caption]);
    }
    return map;
  }
  throw badFile(source, PREDICTION_FORMATS, json);
}

/** The caption of one JSON line: `{"image", "captions": [caption]}` (caption --json) or `{"image_id", "caption"}`. */
function lineCaption(item: Record<string, unknown>, where: string, source: string): { id: Id; caption: string } | undefined {
  if ('image_id' in item) {
    if (!isId(item.image_id) || typeof item.caption !== 'string') throw badFile(source, `{"image_id", "caption"} at ${where}`, item);
    return { id: item.image_id, caption: item.caption };
  }
  if (typeof item.image !== 'string') throw badFile(source, `a string image at ${where}`, item.image);
  if ('error' in item && !('captions' in item)) return undefined;
  const captions = item.captions;
  if (!Array.isArray(captions) || captions.length === 0) throw badFile(source, `a non-empty captions array at ${where}`, captions);
  if (captions.length > 1) {
    throw new ArgumentError(`Expected one caption per image in ${source} but ${where} holds ${captions.length} ` +
      '(scores take one hypothesis per image: caption without --num-return-sequences)');
  }
  const first: unknown = captions[0];
  const text = typeof first === 'string' ? first : isPlainObject(first) ? first.text : undefined;
  if (typeof text !== 'string') throw badFile(source, `a caption {"text"} at ${where}`, first);
  return { id: item.image, caption: text };
}

/**
 * Predictions from JSON lines: `blip2-progressive caption --json` output (`{"image", "captions": [{"text", ...}]}`,
 * keyed by the image path, which cocoEval matches to the references' file names; `{"image", "error"}` lines of
 * images that could not be captioned are skipped) or `{"image_id", "caption"}` objects. Blank lines are ignored;
 * errors name the 1-based line.
 */
export function predictionsFromJsonLines(text: string, source = 'predictions'): CaptionMap {
  const map: CaptionMap = new Map();
  for (const { item, where } of jsonObjectLines(text, source)) {
    const entry = lineCaption(item, where, source);
    if (entry !== undefined) push(map, entry.id, entry.caption);
  }
  return map;
}

/**
 * The objects of a JSON Lines text, each with its place for messages (`line N`, 1-based); blank lines are skipped.
 * A line that does not parse is a FileError naming `source`, the line and the column; one that is not an object an
 * ArgumentError naming the line.
 */
export function jsonObjectLines(text: string, source: string): { item: Record<string, unknown>; where: string }[] {
  const out: { item: Record<string, unknown>; where: string }[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim().length === 0) return;
    const where = `line ${index + 1}`;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch (err) {
      throw new FileError(`Cannot parse JSON Lines file ${source}: ${describeJsonError(line, index + 1)}`, { path: source, cause: err });
    }
    if (!isPlainObject(item)) throw badFile(source, `an object at ${where}`, item);
    out.push({ item, where });
  });
  return out;
}

/** True when a VizWiz-Captions annotation list marks rejected or precanned captions. */
export function isVizWizAnnotations(annotations: readonly unknown[]): boolean {
  return annotations.some((a) => isPlainObject(a) && ('is_rejected' in a || 'is_precanned' in a));
}

/** The VizWiz evaluation's filter: rejected and precanned captions are not references. */
export function isVizWizReference(annotation: Record<string, unknown>): boolean {
  return annotation.is_rejected !== true && annotation.is_precanned !== true;
}

/**
 * Reads a reference file (any format {@link referencesFromJson} accepts).
 * @throws FileError for a missing file or one that is not JSON; ArgumentError for content in no known format.
 */
export async function loadReferences(path: string): Promise<ReferenceMap> {
  if (typeof path !== 'string' || path.length === 0) throw invalidParameterError('path', 'non-empty string path', path);
  return referencesFromJson(await readJsonFile(path, 'reference file'), path);
}

/**
 * Reads a prediction file: any format {@link predictionsFromJson} accepts, or JSON lines
 * ({@link predictionsFromJsonLines}); an error names every format when the file is none of them.
 */
export async function loadPredictions(path: string): Promise<CaptionMap> {
  if (typeof path !== 'string' || path.length === 0) throw invalidParameterError('path', 'non-empty string path', path);
  const text = await readTextFile(path, 'prediction file');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    if (text.trimStart().startsWith('{')) return predictionsFromJsonLines(text, path);
    throw new FileError(`Cannot parse prediction file ${path}: ${describeJsonError(text)}; expected ${PREDICTION_FORMATS}`, { path, cause: err });
  }
  return predictionsFromJson(json, path);
}
