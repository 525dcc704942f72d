/**
 * The part of NLTK 3.8's WordNet reader that METEOR uses: `wordnet.synsets(word)` (morphy
 * lemmatisation over noun, verb, adjective and adverb, exception lists first) and the lemma names of
 * those synsets. Data: WordNet 3.0 (Debian `wordnet-base` 1:3.0-37), reduced by
 * scripts/build-wordnet.mjs to data/wordnet-synonyms.txt.gz and loaded lazily, once.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { locateDataFile } from './data.js';

const DATA_FILE = 'wordnet-synonyms.txt.gz';
const POS_LIST = ['n', 'v', 'a', 'r'] as const;
type Pos = (typeof POS_LIST)[number];

/** NLTK's `MORPHOLOGICAL_SUBSTITUTIONS`, in NLTK's order. */
const SUBSTITUTIONS: Readonly<Record<Pos, readonly (readonly [string, string])[]>> = {
  n: [['s', ''], ['ses', 's'], ['ves', 'f'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y']],
  v: [['s', ''], ['ies', 'y'], ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', '']],
  a: [['er', ''], ['est', ''], ['er', 'e'], ['est', 'e']],
  r: [],
};

interface WordNetData {
  /** Deduplicated lemma-name lists (names without "_"), space-separated. */
  nameLists: string[];
  /** lemma -> tab-separated fields "<pos><ids>", ids base-36 indices into nameLists. */
  index: Map<string, string>;
  /** pos -> inflected form -> base forms. */
  exceptions: Record<Pos, Map<string, string[]>>;
}

let data: WordNetData | null = null;
const synonymCache = new Map<string, ReadonlySet<string>>();

function parse(text: string): WordNetData {
  const lines = text.split('\n');
  let at = 0;
  const header = (expected: string): number => {
    const fields = lines[at++]!.split(' ');
    if (fields.slice(0, -1).join(' ') !== expected) throw new Error(`WordNet data: expected section "${expected}" at line ${at}`);
    return Number(fields[fields.length - 1]);
  };
  if (lines[at++] !== 'wordnet-synonyms 1') throw new Error('WordNet data: unknown format');
  const nameCount = header('names');
  const nameLists = lines.slice(at, at + nameCount);
  at += nameCount;
  const indexCount = header('index');
  const index = new Map<string, string>();
  for (let k = 0; k < indexCount; k++) {
    const line = lines[at++]!;
    const tab = line.indexOf('\t');
    index.set(line.slice(0, tab), line.slice(tab + 1));
  }
  const exceptions = { n: new Map(), v: new Map(), a: new Map(), r: new Map() } as Record<Pos, Map<string, string[]>>;
  for (const pos of POS_LIST) {
    const count = header(`exc ${pos}`);
    for (let k = 0; k < count; k++) {
      const [form, ...bases] = lines[at++]!.split(' ');
      exceptions[pos].set(form!, bases);
    }
  }
  return { nameLists, index, exceptions };
}

function load(): WordNetData {
  if (data === null) data = parse(gunzipSync(readFileSync(locateDataFile(DATA_FILE))).toString('utf8'));
  return data;
}

/** The base-36 name-list ids of `lemma` as part of speech `pos`, or null if it has no such entry. */
function posField(wn: WordNetData, lemma: string, pos: Pos): string | null {
  const entry = wn.index.get(lemma);
  if (entry === undefined) return null;
  for (const field of entry.split('\t')) if (field[0] === pos) return field.slice(1);
  return null;
}

/** NLTK's `WordNetCorpusReader._morphy(form, pos)`: the base forms of `form` found in the index. */
function morphy(wn: WordNetData, form: string, pos: Pos): string[] {
  const filterForms = (forms: readonly string[]): string[] => {
    const result: string[] = [];
    for (const f of forms) if (!result.includes(f) && posField(wn, f, pos) !== null) result.push(f);
    return result;
  };
  const applyRules = (forms: readonly string[]): string[] => {
    const out: string[] = [];
    for (const f of forms) {
      for (const [old, replacement] of SUBSTITUTIONS[pos]) if (f.endsWith(old)) out.push(f.slice(0, -old.length) + replacement);
    }
    return out;
  };
  const exception = wn.exceptions[pos].get(form);
  if (exception !== undefined) return filterForms([form, ...exception]);
  let forms = applyRules([form]);
  let results = filterForms([form, ...forms]);
  while (results.length === 0 && forms.length > 0) {
    forms = applyRules(forms);
    results = filterForms(forms);
  }
  return results;
}

/**
 * The lemma names METEOR's synonym stage compares against: every lemma name without an underscore
 * of every synset in NLTK 3.8's `wordnet.synsets(word)` (all parts of speech, morphy applied).
 * Names keep WordNet's case (`Dog`, `dog`); the word itself is not added.
 * @param word A word; it is lower-cased first, as `synsets` does.
 * @returns The set of lemma names (cached per word).
 */
export function wordnetSynonyms(word: string): ReadonlySet<string> {
  const cached = synonymCache.get(word);
  if (cached !== undefined) return cached;
  const wn = load();
  const lemma = word.toLowerCase();
  const names = new Set<string>();
  for (const pos of POS_LIST) {
    for (const form of morphy(wn, lemma, pos)) {
      const ids = posField(wn, form, pos);
      if (!ids) continue;
      for (const id of ids.split(',')) {
        for (const name of wn.nameLists[parseInt(id, 36)]!.split(' ')) names.add(name);
      }
    }
  }
  synonymCache.set(word, names);
  return names;
}
