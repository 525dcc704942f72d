/**
 * Config objects as tables: each key with its reader (validation and default) beside its documentation, so that the
 * validator and the README's reference come from one place (see `runConfigReference` in train/run-config.ts).
 */
import { boolean, integerInRange, knownKeys, nonEmptyString, numberInRange, oneOf, optional } from './is.js';

/** What a key's reader may need besides the value: the directory relative paths resolve against. */
export interface ReadContext {
  base: string;
}

/** One key of a config object. */
export interface ConfigKey<T = unknown> {
  /** The JSON type as documented: `integer 1–64`, `"greedy" \| "mean"`. */
  type: string;
  /** The default as documented; `—` when there is none (required, or off when absent). */
  default: string;
  /** What the key means. */
  doc: string;
  /**
   * Validates a value (undefined when the key is absent) and applies the default; `name` is the key's path for errors.
   */
  read(value: unknown, name: string, context: ReadContext): T;
}

/** The keys of one config object, in documentation order. */
export type ConfigTable = Record<string, ConfigKey>;

/** What {@link readTable} returns: each key's read value. */
export type TableValues<T extends ConfigTable> = { [K in keyof T]: ReturnType<T[K]['read']> };

/**
 * Reads a config object by its table: unknown keys are errors naming `where`, each key is read with the name
 * `prefix + key` (e.g. `stages[0].scst.samples`).
 */
export function readTable<T extends ConfigTable>(
  table: T, value: unknown, where: string, prefix = '', context: ReadContext = { base: process.cwd() },
): TableValues<T> {
  const o = knownKeys(where, value, Object.keys(table));
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) out[key] = spec.read(o[key], `${prefix}${key}`, context);
  return out as TableValues<T>;
}

/** A number as the reference shows it: `1e-4` rather than `0.0001`. */
export function formatNumber(value: number): string {
  return value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : String(value);
}

const UNBOUNDED = 1e9;
const range = (kind: string, min: number, max: number) => (max >= UNBOUNDED ? `${kind} ≥ ${formatNumber(min)}` : `${kind} ${formatNumber(min)}–${formatNumber(max)}`);

/** An integer in [min, max]; `def` when absent (undefined: the key stays unset, documented as `defaultDoc`). */
export function integerKey(min: number, max: number, def: number, doc: string): ConfigKey<number>;
export function integerKey(min: number, max: number, def: undefined, doc: string, defaultDoc?: string): ConfigKey<number | undefined>;
export function integerKey(min: number, max: number, def: number | undefined, doc: string, defaultDoc?: string): ConfigKey<number | undefined> {
  return {
    type: range('integer', min, max), default: defaultDoc ?? (def === undefined ? '—' : formatNumber(def)), doc,
    read: (value, name) => optional(value, def, (v) => integerInRange(name, v, min, max)),
  };
}

/** A finite number in [min, max]; `def` when absent. */
export function numberKey(min: number, max: number, def: number, doc: string): ConfigKey<number> {
  return {
    type: range('number', min, max), default: formatNumber(def), doc,
    read: (value, name) => optional(value, def, (v) => numberInRange(name, v, min, max)),
  };
}

/** true or false; `def` when absent (undefined: the key stays unset, documented as `defaultDoc`). */
export function booleanKey(def: boolean, doc: string): ConfigKey<boolean>;
export function booleanKey(def: undefined, doc: string, defaultDoc: string): ConfigKey<boolean | undefined>;
export function booleanKey(def: boolean | undefined, doc: string, defaultDoc?: string): ConfigKey<boolean | undefined> {
  return {
    type: 'boolean', default: defaultDoc ?? String(def), doc,
    read: (value, name) => optional(value, def, (v) => boolean(name, v)),
  };
}

/** One of the listed strings; `def` when absent (undefined: the key stays unset, documented as `defaultDoc`). */
export function choiceKey<const V extends readonly string[]>(values: V, def: V[number], doc: string): ConfigKey<V[number]>;
export function choiceKey<const V extends readonly string[]>(values: V, def: undefined, doc: string, defaultDoc: string): ConfigKey<V[number] | undefined>;
export function choiceKey<const V extends readonly string[]>(values: V, def: V[number] | undefined, doc: string, defaultDoc?: string): ConfigKey<V[number] | undefined> {
  return {
    type: values.map((v) => JSON.stringify(v)).join(' | '), default: defaultDoc ?? JSON.stringify(def), doc,
    read: (value, name) => optional(value, def, (v) => oneOf(name, v, values)),
  };
}

/** A non-empty string, unset when absent (documented as `defaultDoc`). */
export function stringKey(doc: string, defaultDoc = '—'): ConfigKey<string | undefined> {
  return { type: 'string', default: defaultDoc, doc, read: (value, name) => optional(value, undefined, (v) => nonEmptyString(name, v)) };
}

/** Escapes a table cell's text for Markdown (`|` would end the cell). */
const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The reference of a table in Markdown: one row per key (`| key | type | default | meaning |`). */
export function renderTable(table: ConfigTable): string {
  const rows = Object.entries(table).map(([key, spec]) =>
    `| \`${key}\` | ${cell(spec.type)} | ${cell(spec.default)} | ${cell(spec.doc)} |`);
  return ['| key | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
