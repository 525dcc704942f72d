/**
 * A re-implementation of the Stanford PTBLexer (CoreNLP 3.4.1) as pycocoevalcap runs it:
 * `PTBTokenizer -preserveLines -lowerCase`, i.e. the default PTB3 options with `tokenizeNLs`,
 * `americanize` and `escapeForwardSlashAsterisk` off, and `untokenizable=firstDelete`.
 *
 * The JFlex scanner is emulated by trying every rule at the current position and keeping the
 * longest match, trailing context included (JFlex semantics); ties go to the earlier rule. The
 * scanner is %caseless for literal text but not for character classes; {@link ci} spells that out.
 * JFlex 1.4 scans UTF-16 code units, so astral characters (emoji) are two untokenizable units.
 *
 * Written from the published lexer rules and the behaviour recorded in the fixture
 * `ptb_tokenizer_cases.json`; where 3.4.1 is not documented there, the rules follow the
 * CoreNLP grammar of that era. The rule families that matter for captions (abbreviations,
 * #hashtags/@mentions, URLs, e-mail, numbers, quotes) are pinned case by case, rule named, in
 * test/metrics/ptb-lexer-grammar.test.ts. Two behaviours there come from comparing against real
 * pycocoevalcap output rather than from the grammar file (no 3.4.1 copy of `PTBLexer.flex` was at
 * hand; the 2013 and 2017-2021 ones were): ABBREV3 words ("no.", "fig.") keep their period only
 * before a number, which the fixture's `no.1` -> `no. 1` at end of input confirms (the older
 * ABBREV1 placement would give `no. .1`), and a single letter keeps its period only before a space.
 * Where the 2013 and 2017 grammars agree, this follows them (LIKELYURL's `,-_` class range); EMAIL, which changed
 * in between, is the 2013 grammar's, as the Spanish and French lexers adapted from PTBLexer in 2013-2014 have it.
 */

/** Makes ASCII letters of a literal case-insensitive (`cannot` -> `[cC][aA]...`), as JFlex %caseless. */
function ci(literal: string): string {
  return literal.replace(/[A-Za-z]/g, (ch) => `[${ch.toLowerCase()}${ch.toUpperCase()}]`);
}

/** Like {@link ci} for an alternation written with `|`, leaving regex syntax alone. */
function ciAlt(words: string): string {
  return words.split('|').map((w) => w.replace(/(\[[^\]]*\]|\\.)|([A-Za-z])/g,
    (_m, keep: string | undefined, ch: string | undefined) => keep ?? `[${ch!.toLowerCase()}${ch!.toUpperCase()}]`)).join('|');
}

const SPACE = '[ \\t\\u00A0\\u2000-\\u200A\\u3000]';
const NEWLINE = '(?:\\r\\n|[\\r\\n\\u2028\\u2029\\u000B\\u000C\\u0085])';
const SPACENL = `(?:${SPACE}|${NEWLINE})`;
const SPLET = `&[aeiouAEIOU](?:${ci('acute')}|${ci('grave')}|${ci('uml')});`;
const LETTER = `(?:[\\p{L}\\p{M}\\u00AD]|${SPLET})`;
const DIGIT = '[\\p{Nd}\\u07C0-\\u07C9]';
// Letters and digits (Java's Character.isLetter / isDigit): letter numbers such as U+2167 are not in it.
const ALNUM = '[\\p{L}\\p{Nd}]';
const WORD = `${LETTER}(?:${LETTER}|${DIGIT})*(?:[.!?]${LETTER}(?:${LETTER}|${DIGIT})*)*`;
const APOS = "(?:['\\u0092\\u2019\\u00B4]|&apos;)";
const APOSETC = `(?:${APOS}|[\`\\u0091\\u2018\\u201B])`;
const REDAUX = `${APOS}(?:[msdMSD]|${ci('re')}|${ci('ve')}|${ci('ll')})`;
const SWORD = '[A-Za-z\\u00AD]*[A-MO-Za-mo-z]\\u00AD*';
const SREDAUX = `[nN]${APOSETC}[tT]`;
const NUM = `(?:${DIGIT}+(?:[.:,\\u00AD\\u066B\\u066C]${DIGIT}+)*|${DIGIT}*(?:[.,\\u066B\\u066C]${DIGIT}+)+)`;
const NUMBER = `[\\-+]?${NUM}`;
const HYPHEN = '[\\-_\\u058A\\u2010\\u2011]';
const THING = `(?:[dDoOlL]${APOSETC}${ALNUM})?(?:${ALNUM}+|${NUMBER})(?:${HYPHEN}(?:[dDoOlL]${APOSETC}${ALNUM})?(?:${ALNUM}+|${NUM}))*`;
const SPAMP = ci('&amp;');
const THINGA = `[A-Z]+(?:(?:[+&]|${SPAMP})[A-Z]+)+`;
const ACRO = `(?:[A-Za-z](?:\\.[A-Za-z])+|(?:${ciAlt('Canada|Sino|Korean|EU|Japan|non')})-${ci('U.S')}|${ci('U.S.')}-(?:${ci('U.K')}|${ci('U.S.S.R')}))`;
const ABMONTH = 'Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec';
const ABDAYS = 'Mon|Tue|Tues|Wed|Thu|Thurs|Fri';
const ABSTATE = 'Ala|Ariz|[A]z|[A]rk|Calif|Colo|Conn|Ct|Dak|[D]el|Fla|Ga|[I]ll|Ind|Kans?|Ky|[L]a|[M]ass|Md|Mich|Minn|[M]iss|Mo|Mont|Neb|Nev|Okla|[O]re|[P]a|Penn|Tenn|[T]ex|Va|Vt|[W]ash|Wisc?|Wyo';
const ABCOMP = 'Inc|Cos?|Corp|Pp?t[ye]s?|Ltd|Plc|Bancorp|Dept|Bhd|Assn|Univ|Intl|Sys';
const ABNUM = 'Ph|tel|est|ext|sq|ft';
// ABBREV3: abbreviations that keep their period only before a number ("No. 5", "fig.3"); anywhere
// else ("no." ending a line) the period is split off like any sentence-final one.
const ABBREV3 = `(?:${ciAlt('ca|figs?|prop|nos?|art|bldg|pp|op')})\\.`;
const ABPTIT = 'Jr|Sr|Bros|Ed\\.D|Ph\\.D|Blvd|Rd|Esq';
const ABBREV1 = `(?:${ciAlt([ABMONTH, ABDAYS, ABSTATE, ABCOMP, ABNUM, ABPTIT, 'etc|al|seq'].join('|'))})\\.`;
const ABTITLE = 'Mr|Mrs|Ms|[M]iss|Drs?|Profs?|Sens?|Reps?|Attys?|Lt|Col|Gen|Messrs|Govs?|Adm|Rev|Maj|Sgt|Cpl|Pvt|Mt|Capt|Ste?|Ave|Pres|Lieut|Hon|Brig|Co?mdr|Pfc|Spc|Supts?|Det';
// Alternatives longest-first: a JavaScript alternation takes the first that fits, JFlex the longest.
const ABBREV4_WORDS = `${ACRO}|${ciAlt(ABTITLE)}|${ciAlt('vs|Alex|Wm|Jos|Cie|a\\.k\\.a|cf|TREAS|Invt|Elec|Natl|M[ft]g')}`;
const ABBREV4 = `(?:${ABBREV4_WORDS}|[A-Za-z])`;
const SGML = '<(?:[!?][A-Za-z\\-][^>\\r\\n]*|[A-Za-z][A-Za-z0-9_:.\\-]*(?:[ ]+(?:[A-Za-z][A-Za-z0-9_:.\\-]*(?:[ ]*=[ ]*(?:\'[^\'\\r\\n]*\'|"[^"\\r\\n]*"|[A-Za-z][A-Za-z0-9_:.\\-]*))?))*[ ]*\\/?|\\/[A-Za-z][A-Za-z0-9_:.\\-]*)[ ]*>';
const QUOTES = `(?:${APOS}|[\`\\u2018-\\u201F\\u0082\\u0084\\u0091-\\u0094\\u2039\\u203A\\u00AB\\u00BB]{1,2})`;
const DBLQUOT = `(?:"|${ci('&quot;')}|[\`'\\u0091\\u0092\\u2018\\u2019]')`;
const ACRONYM_FOLLOWERS = 'About|According|Additionally|After|An|A|As|At|But|Earlier|He|Her|Here|However|If|In|It|Last|Many|More|Mr\\.|Ms\\.|Now|Once|One|Other|Our|She|Since|So|Some|Such|That|The|Then|There|These|They|This|We|When|While|What|Yet|You';
const MISCSYMBOL = '[+%&~^|\\\\\\u00A6\\u00A7\\u00A8\\u00A9\\u00AC\\u00AE\\u00AF\\u00B0-\\u00B3\\u00B4-\\u00BA\\u00D7\\u00F7\\u0387\\u05BE\\u05C0\\u05C3\\u05C6\\u05F3\\u05F4\\u0600-\\u0603\\u0606-\\u060A\\u060C\\u0614\\u061B\\u061E\\u066A\\u066D\\u0703-\\u070D\\u07F6\\u07F7\\u07F8\\u0964\\u0965\\u0E4F\\u2016\\u2017\\u2020-\\u2025\\u2030-\\u2038\\u203B\\u203C\\u2043\\u203E-\\u2042\\u2044\\u207A-\\u207F\\u208A-\\u208E\\u2100-\\u214F\\u2190-\\u21FF\\u2200-\\u2BFF\\u3001-\\u3006\\u3008-\\u3020\\u30FB\\uFF01-\\uFF0F\\uFF1A-\\uFF20\\uFF3B-\\uFF40\\uFF5B-\\uFF65]';

const OPEN_PAREN = '-LRB-';
const CLOSE_PAREN = '-RRB-';

/** Quote normalisation of `handleQuotes` with latexQuotes on. */
function latexQuotes(tok: string, probablyLeft: boolean): string {
  let s = probablyLeft
    ? tok.replace(/&apos;|'/g, '`').replace(/"|''|'`|`'|&quot;/g, '``')
    : tok.replace(/&apos;|'/g, "'").replace(/"|''|'`|`'|&quot;/g, "''");
  s = s.replace(/[\u0082\u008B\u0091\u2018\u201A\u201B\u2039]/g, '`');
  s = s.replace(/[\u0092\u009B\u00B4\u2019\u203A]/g, "'");
  s = s.replace(/[\u0084\u0093\u201C\u201E\u00AB]|[\u0091\u2018]'/g, '``');
  s = s.replace(/[\u0094\u201D\u00BB]|[\u0092\u2019]'/g, "''");
  return s;
}

const removeSoftHyphens = (s: string) => s.replace(/\u00AD/g, '');
const parens = (s: string) => s.replace(/\(/g, OPEN_PAREN).replace(/\)/g, CLOSE_PAREN);

function normalizeCurrency(s: string): string {
  return s.replace(/\u00A2/g, 'cents').replace(/\u00A3/g, '#').replace(/[\u0080\u20A0\u20AC]/g, '$');
}

function normalizeFractions(s: string): string {
  const map: Record<string, string> = {
    '\u00BC': '1/4', '\u00BD': '1/2', '\u00BE': '3/4', '\u2153': '1/3', '\u2154': '2/3', '\u2155': '1/5',
    '\u2156': '2/5', '\u2157': '3/5', '\u2158': '4/5', '\u2159': '1/6', '\u215A': '5/6', '\u215B': '1/8',
    '\u215C': '3/8', '\u215D': '5/8', '\u215E': '7/8',
  };
  return map[s] ?? s;
}

/** What a rule does with its match: the token to emit (or none) and how much input it consumes. */
interface Action {
  token: string | null;
  /** Characters consumed (less than the match for JFlex `yypushback`). */
  consumed: number;
  newline?: boolean;
}

interface Rule {
  re: RegExp;
  /** The characters a match can start with (a one-character class), or null for any. */
  first: RegExp | null;
  /** Given the matched text (without trailing context), the action. */
  act: (text: string, total: number) => Action;
}

const emit = (token: string | null) => (text: string): Action => ({ token, consumed: text.length });
const asIs = (text: string): Action => ({ token: text, consumed: text.length });
const skip = (text: string): Action => ({ token: null, consumed: text.length });

/**
 * Builds a rule from a main pattern and an optional trailing context (JFlex `r1/r2`):
 * the context counts towards the longest match but is not consumed.
 */
function rule(main: string, context: string | null, act: Rule['act'], first?: string): Rule {
  return {
    re: new RegExp(context === null ? `(${main})` : `(${main})(?:${context})`, 'uy'),
    first: first === undefined ? null : new RegExp(`^${first}$`, 'u'),
    act,
  };
}

/** Pushes back everything after the first `keep` characters (JFlex `yypushback`). */
const keepFirst = (text: string, keep: number): Action => ({ token: text.slice(0, keep), consumed: keep });

/** `processAcronym`: a 2-char acronym loses its period; longer ones are duplicated with a period. */
function processAcronym(text: string): Action {
  if (text.length === 2) return keepFirst(text, 1);
  return { token: text, consumed: text.length - 1 };
}

const RULES: Rule[] = [
  rule('[cC]\\+\\+|[cCfF]#', null, asIs, '[cCfF]'),
  rule(`${ci('cannot')}|${APOS}${ci('twas')}`, null, (t) => keepFirst(t, t.length - 3), '[cC\'\\u0092\\u2019\\u00B4&]'),
  rule(`${APOS}${ci('tis')}|${ci('gonna')}|${ci('gotta')}|${ci('lemme')}|${ci('gimme')}|${ci('wanna')}`, null, (t) => keepFirst(t, t.length - 2)),
  rule(SGML, null, (t) => ({ token: t.replace(/ /g, '\u00A0'), consumed: t.length }), '<'),
  rule(`&(?:${ci('MD')}|${ci('mdash')}|${ci('ndash')});|[\\u0096\\u0097\\u2013\\u2014\\u2015]`, null, (t) => ({ token: '--', consumed: t.length }), '[&\\u0096\\u0097\\u2013\\u2014\\u2015]'),
  rule(SPAMP, null, (t) => ({ token: '&', consumed: t.length }), '&'),
  rule(`&(?:${ciAlt('HT|TL|UR|LR|QC|QL|QR|odq|cdq')}|#[0-9]+);`, null, asIs, '&'),
  rule(WORD, REDAUX, (t) => ({ token: removeSoftHyphens(t), consumed: t.length }), '[\\p{L}\\p{M}\\u00AD&]'),
  rule(SWORD, SREDAUX, (t) => ({ token: removeSoftHyphens(t), consumed: t.length }), '[A-Za-z\\u00AD]'),
  rule(WORD, null, (t) => ({ token: removeSoftHyphens(t), consumed: t.length }), '[\\p{L}\\p{M}\\u00AD&]'),
  ...[
    `${APOS}[nN]${APOS}?`,
    `[lLdDjJ]${APOS}`,
    `${ci('Dunkin')}${APOS}`,
    `${ci('somethin')}${APOS}`,
    `${ci('ol')}${APOS}`,
    `${APOS}${ci('em')}`,
    `[A-HJ-XZn]${APOSETC}\\p{L}{2}\\p{L}*`,
    `${APOS}[2-9]0[sS]`,
    `${APOS}${ci('til')}[lL]?`,
    `\\p{L}\\p{L}*[aeiouyAEIOUY]${APOSETC}[aeiouA-Z]\\p{L}*`,
    `${APOS}${ci('cause')}`,
    `${ci("cont'd")}\\.?`,
    `${ci("nor'easter")}`,
    `${ci("c'mon")}`,
    `${ci("e'er")}`,
    `${ci("s'mores")}`,
    `${ci("ev'ry")}`,
    `${ci("li'l")}`,
    `${ci("nat'l")}`,
  ].map((alt) => rule(alt, null, asIs)),
  rule(`[yY]${APOS}`, '\\p{L}', asIs, '[yY]'),
  rule('(?:[hH][tT][tT][pP][sS]?|[fF][tT][pP]):\\/\\/[^ \\t\\n\\f\\r"<>|()]+[^ \\t\\n\\f\\r"<>|.!?(){},\\-]', null, asIs, '[hHfF]'),
  // LIKELYURL. Its second alternative's label class is written `[^ \t\n\f\r\"`'<>|.!?(){},-_$]` in the grammar, where
  // `,-_` is a JFlex range (U+002C-U+005F: digits, upper case, `:`, `/`, `@` ...), so those labels hold none of them.
  rule(`(?:(?:${ci('www')}\\.(?:[^ \\t\\n\\f\\r"<>|.!?(){},]+\\.)+[a-zA-Z]{2,4})|(?:(?:[^ \\t\\n\\f\\r"\`'<>|.!?(){}$,-_]+\\.)+(?:${ciAlt('com|net|org|edu')})))(?:\\/[^ \\t\\n\\f\\r"<>|()]+[^ \\t\\n\\f\\r"<>|.!?(){},\\-])?`, null, asIs, '[^ \\t\\n\\f\\r"<>|.!?(){},]'),
  // EMAIL: no dot needed after the @; the last part runs to a space, one of "<>|() or a period.
  rule('[a-zA-Z0-9][^ \\t\\n\\f\\r"<>|()\\u00A0]*@(?:[^ \\t\\n\\f\\r"<>|().\\u00A0]+\\.)*[^ \\t\\n\\f\\r"<>|().\\u00A0]+', null, asIs, '[a-zA-Z0-9]'),
  // TWITTER: an @-mention (ASCII letters, digits, underscore) or a #hashtag (# and a WORD) is one token.
  rule(`@[a-zA-Z_][a-zA-Z_0-9]*|#${WORD}`, null, asIs, '[@#]'),
  rule(REDAUX, '[^A-Za-z]', (t) => ({ token: latexQuotes(t, false), consumed: t.length }), '[\'\\u0092\\u2019\\u00B4&]'),
  rule(SREDAUX, '[^A-Za-z]', (t) => ({ token: latexQuotes(t, false), consumed: t.length }), '[nN]'),
  rule(`${DIGIT}{1,2}[\\-\\/]${DIGIT}{1,2}[\\-\\/]${DIGIT}{2,4}`, null, asIs, '[\\p{Nd}\\u07C0-\\u07C9]'),
  rule(NUMBER, null, (t) => ({ token: removeSoftHyphens(t), consumed: t.length }), '[\\-+.,\\u066B\\u066C\\p{Nd}\\u07C0-\\u07C9]'),
  rule('[\\u207A\\u207B\\u208A\\u208B]?(?:[\\u2070\\u00B9\\u00B2\\u00B3\\u2074-\\u2079]+|[\\u2080-\\u2089]+)', null, asIs, '[\\u207A\\u207B\\u208A\\u208B\\u2070\\u00B9\\u00B2\\u00B3\\u2074-\\u2079\\u2080-\\u2089]'),
  rule(`(?:${DIGIT}{1,4}[\\- \\u00A0])?${DIGIT}{1,4}(?:\\\\?\\/|\\u2044)${DIGIT}{1,4}`, null, (t) => ({ token: t.replace(/ /g, '\u00A0'), consumed: t.length }), '[\\p{Nd}\\u07C0-\\u07C9]'),
  rule('[\\u00BC\\u00BD\\u00BE\\u2153-\\u215E]', null, (t) => ({ token: normalizeFractions(t), consumed: t.length }), '[\\u00BC\\u00BD\\u00BE\\u2153-\\u215E]'),
  rule(`-(?:${ciAlt('RRB|LRB|RCB|LCB|RSB|LSB')})-|${ci('C.D.s')}|${ci('pro-')}|${ci('anti-')}|[sS](?:&|${SPAMP})[pP]-500|[sS](?:&|${SPAMP})[lL][sS]|${ci('Cap')}${APOS}[nN]|[cC]${APOS}${ci('est')}`, null,
    (t) => ({ token: t.replace(/&amp;/gi, '&'), consumed: t.length }), '[\\-cCpPaAsS]'),
  rule(`${ALNUM}+(?:-\\p{L}+){0,2}(?:\\\\?\\/${ALNUM}+(?:-\\p{L}+){0,2}){1,2}`, null, asIs, '[\\p{L}\\p{Nd}]'),
  rule('[A-Z]*\\$|#', null, asIs, '[A-Z$#]'),
  rule('[\\u00A2\\u00A3\\u00A4\\u00A5\\u0080\\u20A0\\u20AA\\u20AC\\u20B9\\u060B\\u0E3F\\u20A4\\uFFE0\\uFFE1\\uFFE5\\uFFE6]', null,
    (t) => ({ token: normalizeCurrency(t), consumed: t.length }), '[\\u00A2\\u00A3\\u00A4\\u00A5\\u0080\\u20A0\\u20AA\\u20AC\\u20B9\\u060B\\u0E3F\\u20A4\\uFFE0\\uFFE1\\uFFE5\\uFFE6]'),
  rule(`${ACRO}\\.`, `${SPACE}+(?:${ACRONYM_FOLLOWERS})${SPACE}`, processAcronym, '[A-Za-z]'),
  rule(ABBREV1, `${SPACENL}(?:${SPACENL}|\\p{Lu}|${SGML})`, (t) => ({ token: t, consumed: t.length - 1 }), '[A-Za-z]'),
  rule(ABBREV1, '[\\s\\S]{2}', asIs, '[A-Za-z]'),
  // Fewer than two characters left (end of input): JFlex's last ABBREV1 rule prints the period twice.
  rule(ABBREV1, null, (t) => ({ token: t, consumed: t.length - 1 }), '[A-Za-z]'),
  rule(`(?:${ABBREV4_WORDS})\\.`, null, asIs, '[A-Za-z]'),
  // A single letter keeps its period ("J. Smith") only before a space: ending a line ("the letter A.")
  // it is a word and a sentence-final period.
  rule('[A-Za-z]\\.', SPACE, asIs, '[A-Za-z]'),
  rule(ABBREV4, SPACE, asIs, '[A-Za-z]'),
  rule(ABBREV3, `${SPACENL}?${DIGIT}`, asIs, '[A-Za-z]'),
  rule(ACRO, SPACENL, asIs, '[A-Za-z]'),
  rule(`${APOS}[0-9][0-9]`, SPACENL, asIs, '[\'\\u0092\\u2019\\u00B4&]'),
  rule(`${WORD}\\.`, '[,;:]', (t) => ({ token: removeSoftHyphens(t), consumed: t.length }), '[\\p{L}\\p{M}\\u00AD&]'),
  rule('(?:\\([0-9]{3}\\)[ \\u00A0]?|[0-9]{3}[\\- \\u00A0.])[0-9]{3}[\\- \\u00A0.][0-9]{4}', null,
    (t) => ({ token: parens(t.replace(/ /g, '\u00A0')), consumed: t.length }), '[(0-9]'),
  rule(DBLQUOT, '[A-Za-z0-9$]', (t) => ({ token: latexQuotes(t, true), consumed: t.length }), '["&`\'\\u0091\\u0092\\u2018\\u2019]'),
  rule(DBLQUOT, null, (t) => ({ token: latexQuotes(t, false), consumed: t.length }), '["&`\'\\u0091\\u0092\\u2018\\u2019]'),
  rule('\\x7F', null, skip, '\\x7F'),
  rule(`<|${ci('&lt;')}`, null, emit('<'), '[<&]'),
  rule(`>|${ci('&gt;')}`, null, emit('>'), '[>&]'),
  rule("[<>]?[:;=][\\-o\\*']?[\\(\\)DPdpO\\\\{@\\|\\[\\]]", '[^\\p{L}\\p{Nd}]', (t) => ({ token: parens(t), consumed: t.length }), '[<>:;=]'),
  rule("[\\^x=~<>]\\.[\\^x=~<>]|[\\-\\^x=~<>']_[\\-\\^x=~<>']|\\([\\-\\^x=~<>'][_.]?[\\-\\^x=~<>']\\)|\\([\\^x=~<>']-[\\^x=~<>'`]\\)", null,
    (t) => ({ token: parens(t), consumed: t.length }), '[\\^x=~<>\\-\'(]'),
  rule('\\{', null, emit('-LCB-'), '\\{'),
  rule('\\}', null, emit('-RCB-'), '\\}'),
  rule('\\[', null, emit('-LSB-'), '\\['),
  rule('\\]', null, emit('-RSB-'), '\\]'),
  rule('\\(', null, emit(OPEN_PAREN), '\\('),
  rule('\\)', null, emit(CLOSE_PAREN), '\\)'),
  rule('-+', null, (t) => ({ token: t.length >= 3 && t.length <= 4 ? '--' : t, consumed: t.length }), '-'),
  rule('\\.{3,5}|(?:\\.[ \\u00A0]){2,4}\\.|[\\u0085\\u2026]', null, emit('...'), '[.\\u0085\\u2026]'),
  rule('@+|#+|_+', null, asIs, '[@#_]'),
  rule('\\*+|(?:\\\\\\*){1,3}', null, asIs, '[*\\\\]'),
  rule('[,;:]', null, asIs, '[,;:]'),
  rule('[?!]+', null, asIs, '[?!]'),
  rule('[.\\u00A1\\u00BF\\u037E\\u0589\\u061F\\u06D4\\u0700-\\u0702\\u07FA\\u3002]', null, asIs, '[.\\u00A1\\u00BF\\u037E\\u0589\\u061F\\u06D4\\u0700-\\u0702\\u07FA\\u3002]'),
  rule('=+', null, asIs, '='),
  rule('\\/', null, asIs, '\\/'),
  rule(THING, null, (t) => ({ token: removeSoftHyphens(t), consumed: t.length }), '[\\p{L}\\p{Nd}\\-+.,\\u066B\\u066C]'),
  rule(`${THINGA}\\.`, '[,;:]', (t) => ({ token: t.replace(/&amp;/gi, '&'), consumed: t.length }), '[A-Z]'),
  rule(THINGA, null, (t) => ({ token: t.replace(/&amp;/gi, '&'), consumed: t.length }), '[A-Z]'),
  rule(QUOTES, `\\p{L}[^ \\t\\u00A0\\u2000-\\u200A\\u3000\\r\\n\\u2028\\u2029\\u000B\\u000C\\u0085]`, (t) => ({ token: latexQuotes(t, true), consumed: t.length })),
  rule(QUOTES, `[AaIiUu][ \\t\\u00A0\\u2000-\\u200A\\u3000\\r\\n\\u2028\\u2029\\u000B\\u000C\\u0085]`, (t) => ({ token: latexQuotes(t, true), consumed: t.length })),
  rule(QUOTES, null, (t) => ({ token: latexQuotes(t, false), consumed: t.length })),
  rule(REDAUX, null, (t) => ({ token: latexQuotes(t, false), consumed: t.length }), '[\'\\u0092\\u2019\\u00B4&]'),
  rule(SREDAUX, null, (t) => ({ token: latexQuotes(t, false), consumed: t.length }), '[nN]'),
  rule('<<|>>', null, asIs, '[<>]'),
  rule(MISCSYMBOL, null, asIs),
  rule('[\\u0086\\u0087\\u0089\\u0095\\u0098\\u0099]', null, asIs, '[\\u0086\\u0087\\u0089\\u0095\\u0098\\u0099]'),
  rule(`\\0|${SPACE}+|[\\u200B\\u200E\\u200F\\uFEFF]`, null, skip, '[\\0 \\t\\u00A0\\u2000-\\u200A\\u3000\\u200B\\u200E\\u200F\\uFEFF]'),
  rule(NEWLINE, null, (t) => ({ token: null, consumed: t.length, newline: true }), '[\\r\\n\\u2028\\u2029\\u000B\\u000C\\u0085]'),
  rule(ci('&nbsp;'), null, skip, '&'),
];

/** The rules that can match at a character, by its UTF-16 code (filled lazily). */
const RULES_BY_FIRST = new Map<number, Rule[]>();

function rulesFor(code: number): Rule[] {
  let rules = RULES_BY_FIRST.get(code);
  if (rules === undefined) {
    const ch = String.fromCharCode(code);
    rules = RULES.filter((r) => r.first === null || r.first.test(ch));
    RULES_BY_FIRST.set(code, rules);
  }
  return rules;
}

const FAST_EXCLUDED = new Set(['cannot', 'gonna', 'gotta', 'lemme', 'gimme', 'wanna']);

const ABBREV1_RE = new RegExp(`^(?:${ABBREV1})$`, 'u');
const ABBREV2_RE = new RegExp(`^${ABBREV4}\\.$`, 'u');
const ABBREV3_RE = new RegExp(`^${ABBREV3}$`, 'u');
const ABBREV_CACHE = new Map<string, boolean>();

/** Whether `word.` is one of the abbreviations (ABBREV1 / ABBREV2 / ABBREV3), which may keep their period. */
function isAbbreviation(word: string): boolean {
  let known = ABBREV_CACHE.get(word);
  if (known === undefined) {
    known = ABBREV1_RE.test(`${word}.`) || ABBREV2_RE.test(`${word}.`) || ABBREV3_RE.test(`${word}.`);
    if (ABBREV_CACHE.size < 100_000) ABBREV_CACHE.set(word, known);
  }
  return known;
}

const isBlankOrEnd = (input: string, i: number) => {
  if (i >= input.length) return true;
  const c = input.charCodeAt(i);
  return c === 0x20 || c === 0x0a;
};

/**
 * Plain ASCII words are by far the most common token. When one is followed by a space, a newline,
 * the end, or one of `. , ; : ! ?` that is itself followed by a blank or the end, no other rule
 * can match longer from its start (checked against every rule, trailing contexts included),
 * except the assimilations in FAST_EXCLUDED and, before a period, the abbreviations. Returns the
 * end of the word, or -1 when the fast path does not apply.
 */
function fastWordEnd(input: string, p: number): number {
  let q = p;
  let c = input.charCodeAt(q);
  while ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) c = input.charCodeAt(++q);
  if (q < input.length && c !== 0x20 && c !== 0x0a) {
    const punct = c === 0x2e || c === 0x2c || c === 0x3b || c === 0x3a || c === 0x21 || c === 0x3f;
    if (!punct || !isBlankOrEnd(input, q + 1)) return -1;
    if (c === 0x2e && isAbbreviation(input.slice(p, q))) return -1;
  }
  const len = q - p;
  if ((len === 5 || len === 6) && FAST_EXCLUDED.has(input.slice(p, q).toLowerCase())) return -1;
  return q;
}

/** Result of {@link lexTokens}. */
export interface LexResult {
  /** Output lines as `PTBTokenizer -preserveLines -lowerCase` prints them, as lists of tokens. */
  lines: string[][];
  /** The first untokenizable character (the Java tool logs a warning for it), if any. */
  firstUntokenizable?: string;
}

/**
 * Tokenizes `text` into output lines like `java PTBTokenizer -preserveLines -lowerCase`.
 * Every newline character (`\n`, `\r`, `\r\n`, U+2028, U+2029, `\v`, `\f`) starts a new line;
 * U+0085 lexes as an ellipsis. Rules with a trailing context (smileys such as `:)`) need a
 * following character, so they do not fire at the very end of the input.
 *
 * @param exhaustive try every rule at every position (no fast paths, no first-character
 *   dispatch): slower, and used by the tests to check that the shortcuts change nothing.
 */
export function lexTokens(text: string, exhaustive = false): LexResult {
  // JFlex 1.4 sees UTF-16 units; a surrogate never matches a rule and is deleted as untokenizable.
  const input = /[\uD800-\uDFFF]/.test(text) ? text.replace(/[\uD800-\uDFFF]/g, '\uFFFF') : text;
  const lines: string[][] = [];
  let line: string[] = [];
  let firstUntokenizable: string | undefined;
  let p = 0;
  while (p < input.length) {
    const ch = input.charCodeAt(p);
    if (ch === 0x20 && !exhaustive) {
      p++;
      continue;
    }
    if (ch === 0x0a && !exhaustive) {
      lines.push(line);
      line = [];
      p++;
      continue;
    }
    if (!exhaustive && ((ch >= 0x61 && ch <= 0x7a) || (ch >= 0x41 && ch <= 0x5a))) {
      const q = fastWordEnd(input, p);
      if (q >= 0) {
        line.push(input.slice(p, q).toLowerCase());
        p = q;
        continue;
      }
    }
    let best: Rule | null = null;
    let bestTotal = 0;
    let bestText = '';
    for (const r of exhaustive ? RULES : rulesFor(ch)) {
      r.re.lastIndex = p;
      const m = r.re.exec(input);
      if (m !== null && m[0].length > bestTotal) {
        best = r;
        bestTotal = m[0].length;
        bestText = m[1]!;
      }
    }
    if (best === null) {
      if (firstUntokenizable === undefined) firstUntokenizable = text[p];
      p += 1;
      continue;
    }
    const action = best.act(bestText, bestTotal);
    if (action.newline) {
      lines.push(line);
      line = [];
    } else if (action.token !== null) {
      line.push(action.token.toLowerCase());
    }
    p += action.consumed;
  }
  lines.push(line);
  const result: LexResult = { lines };
  if (firstUntokenizable !== undefined) result.firstUntokenizable = firstUntokenizable;
  return result;
}
