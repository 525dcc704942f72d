/**
 * The PTBLexer 3.4.1 rule families that captions exercise, one hand-worked case per behaviour.
 * Each row names the grammar rule that decides it and gives the Java output line
 * (`PTBTokenizer -preserveLines -lowerCase`, before pycocoevalcap drops punctuation) twice:
 * mid-batch (another caption follows on the next line) and at the end of input, where rules with
 * trailing context lose the characters they look at. Expected tokens were worked out from the
 * rules, not printed by the code under test; the fixture-backed cases are in ptb.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ptbJavaLines, ptbTokenize } from '../../lib/metrics/ptb.js';

/** [grammar rule, input, Java line mid-batch, Java line at end of input (default: the same)] */
type Row = [rule: string, input: string, mid: string, end?: string];

const NEXT = 'x';

function check(rows: Row[]) {
  for (const [rule, input, mid, end] of rows) {
    it(`${rule}: ${JSON.stringify(input)}`, () => {
      expect(ptbJavaLines([input, NEXT])).toEqual([mid, NEXT]);
      expect(ptbJavaLines([input])).toEqual([end ?? mid]);
    });
  }
}

describe('abbreviations', () => {
  check([
    ['ABBREV1/[^][^] (two more characters follow)', 'jan. 5', 'jan. 5'],
    ['ABBREV1/[^][^] mid-batch; last ABBREV1 rule at end of input prints the period twice', 'etc.', 'etc.', 'etc. .'],
    ['ABBREV1 with one character left: the end-of-input rule', 'etc.)', 'etc. -rrb-', 'etc. . -rrb-'],
    ['ABBREV2 (title) keeps its period anywhere', 'Dr.', 'dr.'],
    ['ABBREV2 (title) before a name', 'Mr. Smith', 'mr. smith'],
    ['single letter + period / SPACE (an initial)', 'J. Smith', 'j. smith'],
    ['single letter + period ending the line: WORD, then the period', 'the letter A.', 'the letter a .'],
    ['ABBREV3/{SPACENL}?{DIGIT}', 'No. 5', 'no. 5'],
    ['ABBREV3/{SPACENL}?{DIGIT} without a space', 'no.1', 'no. 1'],
    ['ABBREV3 not before a number: WORD, then the period', 'a sign that says no.', 'a sign that says no .'],
    ['ABBREV3 not before a number, mid-line', 'no. smoking', 'no . smoking'],
    ['ACRONYM/{SPACENLS}(The|...){SPACENL}: the period is printed again', 'the U.S. The end', 'the u.s. . the end'],
    ['ACRONYM (acronym + period) ending the line', '12:30 p.m.', '12:30 p.m.'],
    ['ACRO/{SPACENL}', 'U.S', 'u.s'],
    ['WORD\\./{INSENTP}', 'blue., red', 'blue. , red'],
  ]);

  it('ABBREV1/SENTEND: before a newline and a capital the period is printed again', () => {
    expect(ptbJavaLines(['cats, dogs, etc.', 'A dog'])).toEqual(['cats , dogs , etc. .', 'a dog']);
  });

  it('ABBREV3 trailing context reads across the newline into the next caption', () => {
    expect(ptbJavaLines(['see fig.', '3 cats'])).toEqual(['see fig.', '3 cats']);
    expect(ptbJavaLines(['see fig.', 'three cats'])).toEqual(['see fig .', 'three cats']);
  });

  it('pycocoevalcap drops the split-off period, so "no." and "A." lose it at the end of a caption', () => {
    expect(ptbTokenize(['a sign that says no.', 'the letter A.', 'No. 5 bus', 'etc.'])).toEqual(['a sign that says no', 'the letter a', 'no. 5 bus', 'etc.']);
  });
});

describe('hashtags and mentions', () => {
  check([
    ['TWITTER_CATEGORY = #{WORD}', 'love #tbt today', 'love #tbt today'],
    ['TWITTER_CATEGORY after a word', 'love#tbt', 'love #tbt'],
    ['TWITTER_CATEGORY with a non-ASCII letter', '#café', '#café'],
    ['TWITTER_CATEGORY ends where WORD ends', '#tag!', '#tag !'],
    ['# before a digit is not a hashtag: DOLSIGN, then NUMBER', 'bus #42', 'bus # 42'],
    ['FNMARKS (##) is longer than any hashtag starting there', '##tag', '## tag'],
    ['PROG_LANGS c# beats WORD', 'C# code', 'c# code'],
    ['TWITTER_NAME = @[a-zA-Z_][a-zA-Z_0-9]*', '@john_doe hi', '@john_doe hi'],
    ['TWITTER_NAME, then REDAUX', "@name's dog", "@name 's dog"],
    ['@ before a digit is not a mention: FNMARKS, then THING', '@2x', '@ 2x'],
    ['FNMARKS (@@)', '@@name', '@@ name'],
  ]);
});

// LIKELYURL's second alternative spells its label class [^ \t\n\f\r\"`'<>|.!?(){},-_$]: inside a JFlex class `,-_`
// is the range U+002C-U+005F, so a label cannot hold a digit, an upper-case letter, `:`, `/` or `@` (the 2013 and the
// 2017-2021 grammars alike). EMAIL is the 2013 grammar's (and the 2014 Spanish and French lexers', adapted from it):
// [a-zA-Z0-9][^ \t\n\f\r\"<>|()\u00A0]*@([^ \t\n\f\r\"<>|().\u00A0]+\.)*([^ \t\n\f\r\"<>|().\u00A0]+): no dot needed
// after the @, and the last part stops only at those characters and a period.
describe('URLs and e-mail', () => {
  check([
    ['FULLURL cannot end in a period', 'see https://t.co/abc.', 'see https://t.co/abc .'],
    ['FULLURL stops before a parenthesis', 'http://x.org/a(b)', 'http://x.org/a -lrb- b -rrb-'],
    ['FULLURL cannot end in a hyphen', 'go to http://x.org/a-b-', 'go to http://x.org/a-b -'],
    ['LIKELYURL www. with a path', 'www.example.com/page', 'www.example.com/page'],
    ['LIKELYURL www. labels may hold digits (no range in that class)', 'www.3m.com', 'www.3m.com'],
    ['LIKELYURL .com, then the period', 'visit google.com.', 'visit google.com .'],
    ['LIKELYURL label class excludes U+002C-U+005F: THING, then the period, then WORD', 'buy at 3m.com', 'buy at 3m . com'],
    ['LIKELYURL cannot take a digit label midway: WORD, NUMBER (.3 is longer than .), WORD', 'shop.3m.com', 'shop .3 m.com'],
    ['EMAIL', 'mail me at john.doe@example.com today', 'mail me at john.doe@example.com today'],
    ['EMAIL ends before a period', 'x@y.com.', 'x@y.com .'],
    ['EMAIL needs no dot after the @ (longer than WORD, then TWITTER_NAME)', 'a@b', 'a@b'],
    ['EMAIL without a dot, mid-sentence', 'write to me@home now', 'write to me@home now'],
    ['EMAIL\'s last part runs to a space: a comma stays on it', 'x@y.com, then', 'x@y.com, then'],
    ['@ at the start: TWITTER_NAME, not EMAIL (which starts with a letter or digit)', '@b.com', '@b . com'],
  ]);
});

describe('numbers', () => {
  check([
    ['NUMBER with a decimal point', '3.5 miles', '3.5 miles'],
    ['NUMBER with a thousands comma', '1,000', '1,000'],
    ['NUMBER with several separators', '1.000.000', '1.000.000'],
    ['NUMBER with a colon (time)', '10:30', '10:30'],
    ['NUMBER with a sign', '-5', '-5'],
    ['NUMBER without a leading digit', '.5', '.5'],
    ['NUMBER, then a sentence-final period', '3.5.', '3.5 .'],
    ['DOLSIGN, then NUMBER', '$5.99', '$ 5.99'],
    ['FRAC: the space becomes U+00A0', '3 1/2', '3\u00a01/2'],
    ['FRAC2 normalised', '\u00bd', '1/2'],
    ['DATE', '12/25/2014', '12/25/2014'],
    ['PHONE', '555-123-4567', '555-123-4567'],
  ]);
});

describe('quotes', () => {
  check([
    ['DBLQUOT/[A-Za-z0-9$] opens, DBLQUOT closes', '"stop"', "`` stop ''"],
    ['DBLQUOT between words', 'a "b" c', "a `` b '' c"],
    ['QUOTES/{letter}{non-space} opens, QUOTES closes', "'hello'", "` hello '"],
    ['QUOTES after a plural (no letter follows)', "dogs' ball", "dogs ' ball"],
    ['QUOTES: curly double quotes', '\u201cquoted\u201d', "`` quoted ''"],
    ['QUOTES (``) opens, DBLQUOT (\'\') closes', "``hi''", "`` hi ''"],
    ['SWORD/SREDAUX, then SREDAUX', "can't", "ca n't"],
    ['WORD/REDAUX, then REDAUX', "it's", "it 's"],
    ["APOWORD '[2-9]0s", "'90s", "'90s"],
  ]);
});
