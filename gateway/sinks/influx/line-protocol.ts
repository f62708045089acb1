import type { Reading } from '../../../drivers/contract/canonical.ts';

/**
 * InfluxDB 1.x line protocol, written by hand because it is the hot path: one string
 * per point, no intermediate objects. Escaping follows the 1.x parser:
 * - measurement: `,` and space;
 * - tag keys, tag values, field keys: `,`, `=` and space;
 * - string field values: `"` and `\`.
 * Line breaks cannot appear in names or tag values, so they become spaces. A backslash
 * at the very end of a tag value would escape the separator after it, and 1.x has no
 * way to write one, so it becomes `/`. Empty tag values are left out (1.x rejects them).
 * Non-finite numbers are left out (1.x cannot store NaN or ±Infinity); a point left
 * with no field at all serializes to ''.
 */

const NEEDS_NAME_ESCAPE = /[, \n\r\\]/;
const NEEDS_TAG_ESCAPE = /[,= \n\r\\]/;
const NEEDS_STRING_ESCAPE = /["\\]/;

export function escapeMeasurement(s: string): string {
  if (!NEEDS_NAME_ESCAPE.test(s)) return s;
  return s
    .replace(/[\n\r]/g, ' ')
    .replace(/\\+$/, (m) => '/'.repeat(m.length))
    .replace(/[, ]/g, '\\$&');
}

/** Tag keys, tag values and field keys share one rule. */
export function escapeTag(s: string): string {
  if (!NEEDS_TAG_ESCAPE.test(s)) return s;
  return s
    .replace(/[\n\r]/g, ' ')
    .replace(/\\+$/, (m) => '/'.repeat(m.length))
    .replace(/[,= ]/g, '\\$&');
}

export function escapeStringField(s: string): string {
  return NEEDS_STRING_ESCAPE.test(s) ? s.replace(/["\\]/g, '\\$&') : s;
}

export type FieldValue = string | number | boolean;

/** Field keys whose numbers are written as integers (`12i`), per measurement. */
export type IntegerFields = ReadonlySet<string>;

const NO_INTEGERS: IntegerFields = new Set();

/** Escaped `key=` prefixes: field keys are a small fixed vocabulary, so escape each once. */
const fieldKeyCache = new Map<string, string>();
const FIELD_KEY_CACHE_LIMIT = 4096;

function fieldKeyPrefix(key: string): string {
  let k = fieldKeyCache.get(key);
  if (k === undefined) {
    if (fieldKeyCache.size >= FIELD_KEY_CACHE_LIMIT) fieldKeyCache.clear();
    k = `${escapeTag(key)}=`;
    fieldKeyCache.set(key, k);
  }
  return k;
}

/** One `key=value`; '' for a value line protocol cannot carry (NaN, ±Infinity, undefined). */
export function formatField(key: string, value: FieldValue, integer: boolean): string {
  switch (typeof value) {
    case 'number':
      if (integer) return Number.isFinite(value) ? `${fieldKeyPrefix(key)}${Math.trunc(value)}i` : '';
      return Number.isFinite(value) ? fieldKeyPrefix(key) + value : '';
    case 'boolean':
      return fieldKeyPrefix(key) + (value ? 'true' : 'false');
    case 'string':
      return `${fieldKeyPrefix(key)}"${escapeStringField(value)}"`;
    default:
      return '';
  }
}

/** `measurement,tag=v,...` with tags in key order (the order InfluxDB stores them in). */
export function seriesKey(measurement: string, tags: Record<string, string>): string {
  let out = escapeMeasurement(measurement);
  const keys = Object.keys(tags).sort();
  for (const k of keys) {
    const v = tags[k];
    if (v === undefined || v === '') continue;
    out += `,${escapeTag(k)}=${escapeTag(v)}`;
  }
  return out;
}

/** The field set `a=1,b="x"`; '' when no field can be written. */
export function fieldSet(fields: Record<string, FieldValue>, integers: IntegerFields = NO_INTEGERS): string {
  let out = '';
  let sep = '';
  for (const k in fields) {
    const f = formatField(k, fields[k]!, integers.has(k));
    if (f === '') continue;
    out += sep + f;
    sep = ',';
  }
  return out;
}

/**
 * One point as a line (ending in `\n`), timestamp in milliseconds (write with
 * `precision=ms`). `key` may be a cached `seriesKey(...)` for the point's series.
 */
export function serializePoint(
  p: Reading,
  integers?: IntegerFields,
  key = seriesKey(p.measurement, p.tags),
): string {
  const fields = fieldSet(p.fields, integers);
  if (fields === '') return '';
  return `${key} ${fields} ${Math.trunc(p.time)}\n`;
}
