/**
 * pycocoevalcap's `PTBTokenizer.tokenize` (`tokenizer/ptbtokenizer.py`) without Java: the Stanford
 * PTBTokenizer 3.4.1 run (see {@link lexTokens}) plus the Python wrapper around it.
 */
import { invalidParameterError } from '../is.js';
import { lexTokens } from './ptb-lexer.js';

/** The punctuation tokens pycocoevalcap drops after tokenizing (exact, upper-case matches). */
export const PTB_PUNCTUATIONS: readonly string[] = [
  "''", "'", '``', '`', '-LRB-', '-RRB-', '-LCB-', '-RCB-', '.', '?', '!', ',', ':', '-', '--', '...', ';',
];
const PUNCT = new Set(PTB_PUNCTUATIONS);

/**
 * The wrapper's per-line post-processing, `' '.join(w for w in line.rstrip().split(' ') if w not
 * in PUNCTUATIONS)`, on the line's tokens: tokens never contain a space (the lexer turns inner
 * spaces into U+00A0) nor end in whitespace, so `rstrip().split(' ')` gives back exactly the tokens.
 */
function filterLine(tokens: string[]): string {
  let out = '';
  for (const w of tokens) {
    if (PUNCT.has(w)) continue;
    out = out.length === 0 ? w : `${out} ${w}`;
  }
  return out;
}

function checkCaptions(name: string, captions: unknown): asserts captions is string[] {
  if (!Array.isArray(captions)) throw invalidParameterError(name, 'array of strings', captions);
  captions.forEach((c, i) => {
    if (typeof c !== 'string') throw invalidParameterError(`${name}[${i}]`, 'string', c);
  });
}

/**
 * Tokenizes captions exactly as ONE call of pycocoevalcap's `PTBTokenizer.tokenize` does: each
 * caption's `\n` becomes a space, the captions are joined with `\n` (no trailing newline) and
 * lexed together, then output line i is caption i's result, lower-cased, with
 * {@link PTB_PUNCTUATIONS} removed.
 *
 * Quirks reproduced on purpose: brackets survive as `-lrb-`/`-rrb-`/`-lsb-`... (the punctuation
 * list is upper-case); spaces inside tokens become U+00A0 (`3 1/2`); untokenizable characters are
 * deleted; a `\r`, `\r\n`, U+2028, U+2029, `\v` or `\f` inside a caption splits it, so that caption
 * keeps only its first part and every later caption receives the previous line (the last lines are
 * lost, as Python's `zip` truncates); the last caption is at end of input, where trailing-context
 * rules such as `:)` do not fire.
 *
 * Options: pycocoevalcap runs `PTBTokenizer -preserveLines -lowerCase`. `-preserveLines` only makes
 * newlines tokens that end output lines (`tokenizeNLs`); the input is still lexed as one stream, not
 * line by line (CoreNLP's later `tokenizePerLine`), so trailing-context rules look across the
 * newline into the next caption: mid-batch `cats, dogs, etc.` prints `etc.` (its ABBREV1 rule sees
 * two more characters), where a per-line lexer would print `etc. .`, and `happy :)` keeps `:-rrb-`.
 *
 * Knowingly different from Java: character classes use the Unicode version of this JavaScript
 * engine (JFlex 1.4 used Java 6-era tables), so rare letters added to Unicode since then are words
 * here but deleted by Java.
 *
 * @param captions raw captions, in the order pycocoevalcap would see them.
 * @returns one tokenized string per caption.
 */
export function ptbTokenize(captions: string[]): string[] {
  checkCaptions('captions', captions);
  if (captions.length === 0) return [];
  const text = captions.map((c) => c.replace(/\n/g, ' ')).join('\n');
  const { lines } = lexTokens(text);
  return captions.map((_, i) => filterLine(lines[i] ?? []));
}

/**
 * The raw Java output lines for `captions` tokenized in one call (before the wrapper drops
 * punctuation): useful to inspect misalignment.
 */
export function ptbJavaLines(captions: string[]): string[] {
  checkCaptions('captions', captions);
  return lexTokens(captions.map((c) => c.replace(/\n/g, ' ')).join('\n')).lines.map((tokens) => tokens.join(' '));
}

/** Captions grouped by image, in evaluation order. */
export type CaptionsByImage = Map<string | number, string[]>;

/** Result of {@link tokenizeForEval}. */
export interface TokenizedForEval {
  refs: Map<string | number, string[]>;
  preds: Map<string | number, string[]>;
}

/**
 * Tokenizes references and predictions the way `COCOEvalCap.evaluate` does: two separate
 * tokenizer calls (gts, then res), each over all captions of all images in map order. A
 * line-splitting character therefore only shifts captions within its own call.
 */
export function tokenizeForEval(refs: CaptionsByImage, preds: CaptionsByImage): TokenizedForEval {
  return { refs: tokenizeGrouped('refs', refs), preds: tokenizeGrouped('preds', preds) };
}

function tokenizeGrouped(name: string, groups: CaptionsByImage): Map<string | number, string[]> {
  if (!(groups instanceof Map)) throw invalidParameterError(name, 'Map of image id to captions', groups);
  const flat: string[] = [];
  for (const [id, captions] of groups) {
    checkCaptions(`${name}.get(${JSON.stringify(id)})`, captions);
    flat.push(...captions);
  }
  const tokenized = ptbTokenize(flat);
  const out = new Map<string | number, string[]>();
  let k = 0;
  for (const [id, captions] of groups) out.set(id, captions.map(() => tokenized[k++]!));
  return out;
}
