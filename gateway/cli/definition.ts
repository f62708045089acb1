import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { GatehouseError } from '../errors.ts';

/**
 * A device or bus definition from the command line: `key=value` words (values read as
 * YAML, so `unit=3` is a number and `password={ env: CAM_PW }` a reference; `a.b=x`
 * nests), on top of an optional `--file` holding the mapping as under devices: or buses:.
 */
export function definition(words: readonly string[], file: string | undefined): Record<string, unknown> {
  let base: unknown = {};
  if (file) {
    try {
      base = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new GatehouseError('GH_CLI_USAGE', [`--file ${file}: ${(err as Error).message}`]);
    }
    if (!base || typeof base !== 'object' || Array.isArray(base)) {
      throw new GatehouseError('GH_CLI_USAGE', [`--file ${file} must hold one mapping (id: …, kind: …)`]);
    }
  }
  const out = structuredClone(base) as Record<string, unknown>;
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new GatehouseError('GH_CLI_USAGE', [`"${w}" is not key=value`]);
    const keys = w.slice(0, eq).split('.');
    const raw = w.slice(eq + 1);
    let value: unknown;
    try {
      value = raw === '' ? '' : parseYaml(raw);
    } catch {
      value = raw;
    }
    let at = out;
    for (const k of keys.slice(0, -1)) {
      if (!at[k] || typeof at[k] !== 'object') at[k] = {};
      at = at[k] as Record<string, unknown>;
    }
    at[keys.at(-1)!] = value;
  }
  return out;
}
