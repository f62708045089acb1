import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { CanonicalFields } from '../contract/canonical.ts';
import { canonicalSchemaOf, type FieldMap, type MqttProfile } from './profile.ts';

/** Reads `a.b[0].c` out of parsed JSON; undefined when any step is missing. */
export function readPath(doc: unknown, jsonPath: string): unknown {
  const steps = jsonPath
    .replace(/^\$\.?/, '')
    .split(/\.|\[(\d+)\]/)
    .filter((s) => s !== undefined && s !== '');
  let cur: unknown = doc;
  for (const step of steps) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[step];
  }
  return cur;
}

function convert(raw: unknown, map: FieldMap, target: TSchema): unknown {
  if (raw === undefined || raw === null) return undefined;
  if (map.enum) return map.enum[String(raw)];
  if (target.type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (typeof raw === 'number') return raw !== 0;
    if (raw === 'true' || raw === '1' || raw === 'on') return true;
    if (raw === 'false' || raw === '0' || raw === 'off') return false;
    return undefined;
  }
  if (target.type === 'number' || target.type === 'integer') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
    if (!Number.isFinite(n)) return undefined;
    const v = n * (map.scale ?? 1) + (map.offset ?? 0);
    return target.type === 'integer' ? Math.round(v) : v;
  }
  return raw;
}

/**
 * Maps one device message onto canonical fields. Values that are missing or do not
 * fit the canonical type are left out and listed in `problems`, so one odd field
 * does not discard the rest.
 */
export function mapMessage(
  profile: MqttProfile,
  doc: unknown,
): { fields: CanonicalFields; problems: string[] } {
  const schema = canonicalSchemaOf(profile.kind);
  const props = schema.properties as Record<string, TSchema>;
  const fields: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, map] of Object.entries(profile.fields)) {
    const raw = readPath(doc, map.path);
    if (raw === undefined) continue;
    const value = convert(raw, map, props[name]!);
    if (value === undefined || !Value.Check(props[name]!, value)) {
      problems.push(`${name} ← ${map.path}: ${JSON.stringify(raw)} does not map`);
      continue;
    }
    fields[name] = value;
  }
  return { fields: fields as CanonicalFields, problems };
}
