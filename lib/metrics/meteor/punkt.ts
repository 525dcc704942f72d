/**
 * Sentence splitting of NLTK 3.8's `PunktSentenceTokenizer.tokenize` (nltk/tokenize/punkt.py) with
 * the English model's parameters: candidate periods found by the period-context regex, each decided
 * by the first-pass (type-based) and second-pass (collocation, orthographic, sentence-starter)
 * annotation of the tokens around it, then boundaries realigned past closing quotes and brackets.
 */
import { readFileSync } from 'node:fs';
import { locateDataFile } from './data.js';
import { ABBREV_TYPES, COLLOCATIONS, SENT_STARTERS } from './punkt-english.js';
import { PY_NON_SPACE, PY_SPACE, pyRstrip, pyStrip } from './pyre.js';

const ABBREVS: ReadonlySet<string> = new Set(ABBREV_TYPES);
const STARTERS: ReadonlySet<string> = new Set(SENT_STARTERS);
const COLLOCS: ReadonlySet<string> = new Set(COLLOCATIONS);
/**
 * Orthographic context of the English model: case-context bit flags per word type, from
 * data/punkt-english-ortho.txt (types without a lower-case flag are left out: for every decision
 * below they behave like an unseen type, 0). Loaded on first use; most texts never consult it.
 */
let orthoContextTable: Map<string, number> | null = null;

function loadOrthoContext(): Map<string, number> {
  if (orthoContextTable === null) {
    const table = new Map<string, number>();
    for (const line of readFileSync(locateDataFile('punkt-english-ortho.txt'), 'utf8').split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      table.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    orthoContextTable = table;
  }
  return orthoContextTable;
}

const ORTHO_BEG_UC = 1 << 1;
const ORTHO_MID_UC = 1 << 2;
const ORTHO_UNK_UC = 1 << 3;
const ORTHO_BEG_LC = 1 << 4;
const ORTHO_MID_LC = 1 << 5;
const ORTHO_UNK_LC = 1 << 6;
const ORTHO_UC = ORTHO_BEG_UC + ORTHO_MID_UC + ORTHO_UNK_UC;
const ORTHO_LC = ORTHO_BEG_LC + ORTHO_MID_LC + ORTHO_UNK_LC;

const SENT_END_CHARS = new Set(['.', '?', '!']);
const PUNCTUATION = new Set([';', ':', ',', '.', '!', '?']);
const NON_WORD = `(?:[)";}\\]*:@'({[?!])`;
const MULTI_CHAR = `(?:-{2,}|\\.{2,}|(?:\\.${PY_SPACE}){2,}\\.)`;
const WORD_START = `[^("\`{\\[:;&#*@)}\\]\\-,]`;
const WORD_RE = new RegExp(
  `${MULTI_CHAR}|(?=${WORD_START})${PY_NON_SPACE}+?(?=${PY_SPACE}|$|${NON_WORD}|${MULTI_CHAR}|,(?=$|${PY_SPACE}|${NON_WORD}|${MULTI_CHAR}))|${PY_NON_SPACE}`,
  'gu',
);
/** A potential sentence end, with the following punctuation or whitespace + next token (groups 1, 2). */
const PERIOD_CONTEXT_RE = new RegExp(`[.?!](?=(${NON_WORD}|${PY_SPACE}+(${PY_NON_SPACE}+)))`, 'gu');
const BOUNDARY_REALIGNMENT_RE = new RegExp(`^["')\\]}]+?(?:${PY_SPACE}+|(?=--)|(?=\\n)|$)`, 'u');
const NUMERIC_RE = /^-?[.,]?\p{Nd}[\p{Nd},.-]*\.?$/u;
const ELLIPSIS_RE = /^\.\.+$/u;
const INITIAL_RE = /^[\p{L}\p{Nl}\p{No}_]\.$/u;
const FIRST_UPPER_RE = /^\p{Uppercase}/u;
const FIRST_LOWER_RE = /^\p{Lowercase}/u;
const ASCII_SPACE = new Set([' ', '\t', '\n', '\r', '\x0b', '\x0c']);

/** A word token with punkt's annotations. */
interface PunktToken {
  tok: string;
  type: string;
  periodFinal: boolean;
  sentbreak: boolean;
  abbr: boolean;
  ellipsis: boolean;
}

function makeToken(tok: string): PunktToken {
  const lower = tok.toLowerCase();
  return {
    tok,
    type: NUMERIC_RE.test(lower) ? '##number##' : lower,
    periodFinal: tok.endsWith('.'),
    sentbreak: false,
    abbr: false,
    ellipsis: false,
  };
}

const typeNoPeriod = (t: PunktToken): string =>
  t.type.length > 1 && t.type.endsWith('.') ? t.type.slice(0, -1) : t.type;
const typeNoSentperiod = (t: PunktToken): string => (t.sentbreak ? typeNoPeriod(t) : t.type);
const orthoContext = (type: string): number => loadOrthoContext().get(type) ?? 0;

/** punkt's word segmentation of a text: per line, punctuation other than periods split off. */
function tokenizeWords(text: string): PunktToken[] {
  const tokens: PunktToken[] = [];
  for (const line of text.split('\n')) {
    if (pyStrip(line) === '') continue;
    for (const match of line.matchAll(WORD_RE)) tokens.push(makeToken(match[0]));
  }
  return tokens;
}

function firstPass(token: PunktToken): void {
  const { tok } = token;
  if (SENT_END_CHARS.has(tok)) {
    token.sentbreak = true;
  } else if (ELLIPSIS_RE.test(tok)) {
    token.ellipsis = true;
  } else if (token.periodFinal && !tok.endsWith('..')) {
    const stem = tok.slice(0, -1).toLowerCase();
    const parts = stem.split('-');
    if (ABBREVS.has(stem) || ABBREVS.has(parts[parts.length - 1]!)) token.abbr = true;
    else token.sentbreak = true;
  }
}

/** Whether `token` starts a sentence by its orthography: true, false or 'unknown'. */
function orthoHeuristic(token: PunktToken): boolean | 'unknown' {
  if (PUNCTUATION.has(token.tok)) return false;
  const ortho = orthoContext(typeNoSentperiod(token));
  if (FIRST_UPPER_RE.test(token.tok) && (ortho & ORTHO_LC) !== 0 && (ortho & ORTHO_MID_UC) === 0) return true;
  if (FIRST_LOWER_RE.test(token.tok) && ((ortho & ORTHO_UC) !== 0 || (ortho & ORTHO_BEG_LC) === 0)) return false;
  return 'unknown';
}

function secondPass(token: PunktToken, next: PunktToken): void {
  if (!token.periodFinal) return;
  const type = typeNoPeriod(token);
  const nextType = typeNoSentperiod(next);
  const isInitial = INITIAL_RE.test(token.tok);
  if (COLLOCS.has(`${type} ${nextType}`)) {
    token.sentbreak = false;
    token.abbr = true;
    return;
  }
  if ((token.abbr || token.ellipsis) && !isInitial) {
    if (orthoHeuristic(next) === true) {
      token.sentbreak = true;
      return;
    }
    if (FIRST_UPPER_RE.test(next.tok) && STARTERS.has(nextType)) {
      token.sentbreak = true;
      return;
    }
  }
  if (isInitial || type === '##number##') {
    const startsSentence = orthoHeuristic(next);
    if (startsSentence === false) {
      token.sentbreak = false;
      token.abbr = true;
      return;
    }
    if (startsSentence === 'unknown' && isInitial && FIRST_UPPER_RE.test(next.tok) &&
      (orthoContext(nextType) & ORTHO_LC) === 0) {
      token.sentbreak = false;
      token.abbr = true;
    }
  }
}

/** NLTK's `text_contains_sentbreak`: a token other than the last is annotated as a sentence break. */
function containsSentbreak(text: string): boolean {
  const tokens = tokenizeWords(text);
  for (const token of tokens) firstPass(token);
  for (let i = 0; i + 1 < tokens.length; i++) {
    secondPass(tokens[i]!, tokens[i + 1]!);
    if (tokens[i]!.sentbreak) return true;
  }
  return false;
}

/** Index of the last ASCII whitespace character of `text`, or 0 when there is none. */
function lastWhitespaceIndex(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) if (ASCII_SPACE.has(text[i]!)) return i;
  return 0;
}

type Span = [start: number, stop: number];

/** `_match_potential_end_contexts` + `_slices_from_text`: sentence spans before realignment. */
function sentenceSlices(text: string): Span[] {
  const candidates: { end: number; nextTokStart: number | null; context: string }[] = [];
  let previousStart = 0;
  let previousStop = 0;
  let previous: RegExpMatchArray | null = null;
  const flush = (match: RegExpMatchArray): void => {
    const afterTok = match[1]!;
    const nextTok = match[2];
    candidates.push({
      end: match.index! + 1,
      nextTokStart: nextTok ? match.index! + 1 + afterTok.length - nextTok.length : null,
      context: text.slice(previousStart, previousStop) + match[0] + afterTok,
    });
  };
  for (const match of text.matchAll(PERIOD_CONTEXT_RE)) {
    const before = text.slice(previousStop, match.index);
    let wordStart = lastWhitespaceIndex(before);
    wordStart = wordStart ? wordStart + previousStop + 1 : previousStart;
    if (previous && previousStop <= wordStart) flush(previous);
    previous = match;
    previousStart = wordStart;
    previousStop = match.index!;
  }
  if (previous) flush(previous);

  const slices: Span[] = [];
  let lastBreak = 0;
  for (const { end, nextTokStart, context } of candidates) {
    if (!containsSentbreak(context)) continue;
    slices.push([lastBreak, end]);
    lastBreak = nextTokStart ?? end;
  }
  slices.push([lastBreak, pyRstrip(text).length]);
  return slices;
}

/** `_realign_boundaries`: moves closing quotes and brackets after a break into the sentence before. */
function realignBoundaries(text: string, slices: Span[]): Span[] {
  const out: Span[] = [];
  let realign = 0;
  for (let i = 0; i < slices.length; i++) {
    const sentence: Span = [slices[i]![0] + realign, slices[i]![1]];
    const next = slices[i + 1];
    if (next === undefined) {
      if (text.slice(sentence[0], sentence[1]) !== '') out.push(sentence);
      continue;
    }
    const match = BOUNDARY_REALIGNMENT_RE.exec(text.slice(next[0], next[1]));
    if (match) {
      out.push([sentence[0], next[0] + pyRstrip(match[0]).length]);
      realign = match[0].length;
    } else {
      realign = 0;
      if (text.slice(sentence[0], sentence[1]) !== '') out.push(sentence);
    }
  }
  return out;
}

/**
 * Splits text into sentences like NLTK 3.8's `sent_tokenize(text)` with the English punkt model.
 * @param text Any text.
 * @returns The sentences, as substrings of `text`.
 */
export function sentTokenize(text: string): string[] {
  return realignBoundaries(text, sentenceSlices(text)).map(([start, stop]) => text.slice(start, stop));
}
