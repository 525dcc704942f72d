/**
 * NLTK 3.8's `NLTKWordTokenizer` (nltk/tokenize/destructive.py), the improved Treebank word
 * tokenizer that `nltk.word_tokenize` applies to each sentence. The regular expressions are
 * NLTK's, rewritten with Python's Unicode meaning of `\s`, `\w`, `\d`, `\b` and `$`.
 */
import { PY_DIGIT, PY_END, PY_SPACE, PY_WORD, pySplit } from './pyre.js';

type Rule = readonly [RegExp, string];

const W = PY_WORD;
/** Python `\b` right after a word character: the next character is not a word character. */
const WORD_END = `(?!${W})`;
/** Python `\b` right before a word character. */
const WORD_START = `(?<!${W})`;

const rule = (pattern: string, replacement: string, flags = 'gu'): Rule => [new RegExp(pattern, flags), replacement];

const STARTING_QUOTES: readonly Rule[] = [
  rule('([«“‘„]|`+)', ' $1 '),
  rule('^"', '``', 'u'),
  rule('(``)', ' $1 '),
  rule('([ (\\[{<])("|\'{2})', '$1 `` '),
  // (?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b
  rule(`(')(?!re|ve|ll|m|t|s|d|n)(${W})${WORD_END}`, '$1 $2', 'giu'),
];

const PUNCTUATION: readonly Rule[] = [
  rule(`([^.])(\\.)([\\])}>"'»”’ ]*)${PY_SPACE}*${PY_END}`, '$1 $2 $3 '),
  rule(`([:,])([^${PY_DIGIT}])`, ' $1 $2'),
  rule(`([:,])${PY_END}`, ' $1 '),
  rule('\\.{2,}', ' $& '),
  rule('[;@#$%&]', ' $& '),
  rule(`([^.])(\\.)([\\])}>"']*)${PY_SPACE}*${PY_END}`, '$1 $2$3 '),
  rule('[?!]', ' $& '),
  rule("([^'])' ", "$1 ' "),
  rule('[*]', ' $& '),
];

const PARENS_BRACKETS: Rule = rule('[\\][(){}<>]', ' $& ');
const DOUBLE_DASHES: Rule = rule('--', ' -- ');

const ENDING_QUOTES: readonly Rule[] = [
  rule('([»”’])', ' $1 '),
  rule("''", " '' "),
  rule('"', " '' "),
  rule("([^' ])('[sS]|'[mM]|'[dD]|') ", '$1 $2 '),
  rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", '$1 $2 '),
];

/** MacIntyre's contractions, split as " \1 \2 ". */
const CONTRACTIONS: readonly Rule[] = [
  rule(`${WORD_START}(can)(not)${WORD_END}`, ' $1 $2 ', 'giu'),
  rule(`${WORD_START}(d)('ye)${WORD_END}`, ' $1 $2 ', 'giu'),
  rule(`${WORD_START}(gim)(me)${WORD_END}`, ' $1 $2 ', 'giu'),
  rule(`${WORD_START}(gon)(na)${WORD_END}`, ' $1 $2 ', 'giu'),
  rule(`${WORD_START}(got)(ta)${WORD_END}`, ' $1 $2 ', 'giu'),
  rule(`${WORD_START}(lem)(me)${WORD_END}`, ' $1 $2 ', 'giu'),
  rule(`${WORD_START}(more)('n)${WORD_END}`, ' $1 $2 ', 'giu'),
  rule(`${WORD_START}(wan)(na)(?=${PY_SPACE})`, ' $1 $2 ', 'giu'),
  rule(` ('t)(is)${WORD_END}`, ' $1 $2 ', 'giu'),
  rule(` ('t)(was)${WORD_END}`, ' $1 $2 ', 'giu'),
];

function applyRules(text: string, rules: readonly Rule[]): string {
  let out = text;
  for (const [pattern, replacement] of rules) out = out.replace(pattern, replacement);
  return out;
}

/**
 * Tokenizes one sentence like NLTK 3.8's `NLTKWordTokenizer().tokenize(text)` (parentheses are
 * kept as `(` and `)`, not converted to `-LRB-`).
 * @param text One sentence (word_tokenize first splits text into sentences with punkt).
 * @returns The tokens.
 */
export function treebankWordTokenize(text: string): string[] {
  let out = applyRules(text, STARTING_QUOTES);
  out = applyRules(out, PUNCTUATION);
  out = out.replace(PARENS_BRACKETS[0], PARENS_BRACKETS[1]);
  out = out.replace(DOUBLE_DASHES[0], DOUBLE_DASHES[1]);
  out = ` ${out} `;
  out = applyRules(out, ENDING_QUOTES);
  out = applyRules(out, CONTRACTIONS);
  return pySplit(out);
}
