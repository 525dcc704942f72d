/**
 * Parameters of NLTK's pre-trained English punkt model (`tokenizers/punkt/english.pickle`,
 * nltk_data; Kiss & Strunk (2006), trained by Jan Strunk), transcribed from the protocol-0 pickle.
 * The model's orthographic-context table is in data/punkt-english-ortho.txt (see data/README.md).
 */

/** Known abbreviations (lower case, without the final period). */
export const ABBREV_TYPES: readonly string[] = [
  'w.c', 'ala', 'w.r', 'colo', 'w.w', 'ga', 's.a.y', 'c.o.m.b', 'aug', 'wed', 'jan', 'lt', 'adm', 'oct',
  'reps', 'nov', 'yr', 'dr', 'gen', 'w.va', 'd', 'h', 'l', 'p', 'ph.d', 't', 'r.k', 'r.j', 'r.i', 'r.h',
  's.c', 'sep', 'r.a', 'm.b.a', 'tues', 'e.f', 'p.a.m', 'sen', 'r.t', 'h.c', 'tenn', 'h.f', 'rep', 'n.h',
  'h.m', 'a.m.e', 'a.m', 'nev', 'prof', 'calif', 'a.d', 'n.m', 'a.g', 'a.a', 'a.c', 'a.h', 'n.d', 'n.c',
  'jr', 'kan', 'a.t', 'corp', 'n.y', 'a.s', 'n.v', 'u.s.s.r', 'ore', 'c', 'ok', 'g', 'e.h', 'k', 'e.l',
  'e.m', 's', 'w', 'ltd', 'm.d.c', 'sept', 'col', 'i.m.s', 'okla', 'co', 's.g', 's.p.a', 'wash', 'wis', 'ct',
  'ariz', 'maj', 'feb', 'chg', 'fri', 's.a', 'pa', 's.s', 'n.j', 'cos', '. . ', 'bros', 'mich', 'mg', 'd.c',
  'cie', 'f', 'n', 'r', 'ms', 'mr', 'fla', 'vt', 'dec', 'ill', 'c.i.t', 'va', 'v', 'minn', 'sw', 'u.s.a',
  'd.h', 'vs', 'p.m', 'ave', 'st', 'conn', 'inc', 'u.s', 'd.w', 'f.g', 'g.f', 'g.d', 'messrs', 'g.k', 'u.k',
  'f.j', 'u.n', 't.j', 'j.r', 'j.p', 'ft', 'l.p', 'j.c', 'j.b', 'm.j', 'j.k', 'j.j', 'l.f', 'l.a', 'c.v',
  'e', 'sr', 'm', 'b.v', 'mrs', 'ky', 'b.f',
];

/** Frequent sentence starters. */
export const SENT_STARTERS: readonly string[] = [
  'among', 'since', 'they', 'indeed', 'some', 'sales', 'in', 'moreover', 'yet', 'if', 'even', 'these',
  'nevertheless', 'similarly', 'there', 'when', 'under', 'instead', 'meanwhile', 'thus', 'however', 'but',
  'it', 'most', 'although', 'despite', 'nor', 'he', 'both', 'this', 'many', 'nonetheless', 'according',
  'separately', 'i', 'while', 'so', 'though', 'the',
];

/** Collocations 'first second' whose first word ends in a period that does not end a sentence. */
export const COLLOCATIONS: readonly string[] = [
  '##number## corrections', 'j aron', 'b wigton', '##number## insider', '##number## pay-fone', 'b levine',
  'o ludcke', '##number## international', '##number## cbot', '##number## letters', '##number## business',
  '##number## review', 'i magnin', '##number## who', 'b edelman', '##number## pepper', '##number## aes',
  '##number## dividend', '##number## notable', '##number## leisure', '##number## genentech',
  '##number## credit', '##number## cooper', '##number## henley', 'j fialka', '##number## zimmer',
  '##number## colgate', '##number## financing', 'i toussie', 'b smith', '##number## wedgestone', 'j walter',
  '##number## commodities', 'b stewart', '##number## pegasus', '##number## abreast', '##number## rj',
];
