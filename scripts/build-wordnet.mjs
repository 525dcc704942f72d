#!/usr/bin/env node
// Derives the compact WordNet 3.0 file that lib/metrics/meteor/wordnet.ts reads, from the Princeton
// WordNet 3.0 database as Debian's `wordnet-base` package installs it (/usr/share/wordnet).
//
//   apt-get install wordnet-base
//   node scripts/build-wordnet.mjs [wordnetDir] [outFile]
//
// The output keeps exactly what NLTK's `wordnet.synsets(word)` + `lemma_names()` needs:
//   - every (lemma, part of speech) of the index files with its synsets (so morphy's lookups behave
//     the same, including lemmas whose synsets have no single-word name),
//   - each synset's lemma names without underscores (NLTK's METEOR drops names containing "_"),
//     deduplicated into name lists,
//   - the exception lists (*.exc) used by morphy.
// Format (UTF-8 text, gzip-compressed), sections in this order:
//   "wordnet-synonyms 1"
//   "names <count>"   then <count> lines: space-separated lemma names of one name list
//   "index <count>"   then <count> lines: lemma, then for each POS it has, a tab and
//                     "<pos><comma-separated base-36 name-list ids>" (pos is one of n v a r)
//   "exc <pos> <count>" (four times) then <count> lines: "inflected base1 base2 ..."
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wordnetDir = process.argv[2] ?? '/usr/share/wordnet';
const outFile = process.argv[3] ?? join(here, '..', 'lib', 'metrics', 'meteor', 'data', 'wordnet-synonyms.txt.gz');

const POS = [
  ['n', 'noun'],
  ['v', 'verb'],
  ['a', 'adj'],
  ['r', 'adv'],
];

const readLines = (file) => readFileSync(join(wordnetDir, file), 'latin1').split('\n');

/** Lemma names of each synset of one data file, keyed by byte offset: NLTK strips "(a)", "(p)", "(ip)". */
function readSynsets(file) {
  const synsets = new Map();
  for (const line of readLines(file)) {
    if (line === '' || line.startsWith('  ')) continue;
    const fields = line.split(' ');
    const offset = Number(fields[0]);
    const count = parseInt(fields[3], 16);
    const names = [];
    for (let k = 0; k < count; k++) {
      const name = fields[4 + 2 * k].replace(/\(.*\)$/, '');
      if (!name.includes('_')) names.push(name);
    }
    synsets.set(offset, names);
  }
  return synsets;
}

const nameListIds = new Map();
const nameLists = [];
/** Id of a deduplicated, non-empty name list (order kept as in the synset), or -1. */
function nameListId(names) {
  if (names.length === 0) return -1;
  const key = names.join(' ');
  let id = nameListIds.get(key);
  if (id === undefined) {
    id = nameLists.length;
    nameLists.push(key);
    nameListIds.set(key, id);
  }
  return id;
}

const index = new Map();
for (const [pos, name] of POS) {
  const synsets = readSynsets(`data.${name}`);
  for (const line of readLines(`index.${name}`)) {
    if (line === '' || line.startsWith(' ')) continue;
    const fields = line.trim().split(/ +/);
    const lemma = fields[0];
    const synsetCount = Number(fields[2]);
    const pointerCount = Number(fields[3]);
    const offsetsStart = 4 + pointerCount + 2;
    const ids = new Set();
    for (let k = 0; k < synsetCount; k++) {
      const offset = Number(fields[offsetsStart + k]);
      const names = synsets.get(offset);
      if (names === undefined) throw new Error(`index.${name}: ${lemma} points to missing synset ${offset}`);
      const id = nameListId(names);
      if (id >= 0) ids.add(id);
    }
    let entry = index.get(lemma);
    if (entry === undefined) index.set(lemma, (entry = []));
    entry.push(pos + [...ids].map((id) => id.toString(36)).join(','));
  }
}

const out = ['wordnet-synonyms 1', `names ${nameLists.length}`, ...nameLists, `index ${index.size}`];
for (const [lemma, fields] of index) out.push([lemma, ...fields].join('\t'));
for (const [pos, name] of POS) {
  const lines = readLines(`${name}.exc`).filter((line) => line.trim() !== '').map((line) => line.trim().split(/\s+/).join(' '));
  out.push(`exc ${pos} ${lines.length}`, ...lines);
}
const gz = gzipSync(Buffer.from(out.join('\n') + '\n', 'utf8'), { level: 9 });
writeFileSync(outFile, gz);
process.stdout.write(`wrote ${outFile}: ${nameLists.length} name lists, ${index.size} lemmas, ${gz.length} bytes\n`);
