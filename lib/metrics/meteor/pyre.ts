/**
 * Character classes that reproduce Python 3 `re` semantics for `str` patterns in JavaScript
 * regular expressions (compiled with the `u` flag). JavaScript's `\s`, `\w`, `\d` and `\b` differ
 * from Python's (ASCII-only `\w`/`\d`/`\b`, a different whitespace set), and NLTK's tokenizers are
 * defined by Python's meaning.
 */

/** Python `\s` for str patterns: the characters for which `str.isspace()` is true. */
export const PY_SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
/** Python `\S`. */
export const PY_NON_SPACE = '[^\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
/** Python `\w`: letters, numbers and underscore. */
export const PY_WORD = '[\\p{L}\\p{N}_]';
/** Python `\d`: decimal digits of any script. */
export const PY_DIGIT = '\\p{Nd}';
/** Python's `$` without MULTILINE: end of text, or just before a final newline. */
export const PY_END = '(?=\\n?$)';

const SPACE_RE = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'gu');
const TRAILING_SPACE_RE = new RegExp(`${PY_SPACE}+$`, 'u');
const SPLIT_RE = new RegExp(`${PY_SPACE}+`, 'u');

/** Python `str.strip()` with no argument. */
export function pyStrip(text: string): string {
  return text.replace(SPACE_RE, '');
}

/** Python `str.rstrip()` with no argument. */
export function pyRstrip(text: string): string {
  return text.replace(TRAILING_SPACE_RE, '');
}

/** Python `str.split()` with no argument: split on runs of whitespace, no empty strings. */
export function pySplit(text: string): string[] {
  return text.split(SPLIT_RE).filter((part) => part !== '');
}
