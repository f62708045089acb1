import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import { GatehouseError, type ErrorCode } from '../errors.ts';
import type { DeviceConfig, DriverPlugin } from '../../drivers/contract/plugin.ts';
import { DeviceCommonSchema } from '../../drivers/contract/device.ts';
import { villageConfigSchema } from './schema.ts';
import { resolveSecret, SecretRefSchema, type SecretRef } from './secrets.ts';

export interface ConfigSections {
  broker: TSchema;
  influx: TSchema;
  bridge: TSchema;
  bus: TSchema;
}

export type VillageConfig = Omit<Static<ReturnType<typeof villageConfigSchema>>, 'devices' | 'buses'> & {
  devices: DeviceConfig[];
  buses: Record<string, unknown>[];
};

export interface LoadedConfig {
  file: string;
  config: VillageConfig;
}

interface Problem {
  code: ErrorCode;
  path: (string | number)[];
  message: string;
}

/**
 * Where secrets sit: any `password` or `secret`, and the `token` of an API token (a
 * relay's `token` is only an output's name). The YAML must hold a reference there,
 * resolved before validation.
 */
function isSecret(p: readonly (string | number)[]): boolean {
  const last = p[p.length - 1];
  if (last === 'password' || last === 'secret') return true;
  return last === 'token' && p[0] === 'api' && p[1] === 'tokens';
}

function resolveSecrets(
  node: Record<string, unknown> | unknown[],
  at: (string | number)[],
  baseDir: string,
  problems: Problem[],
): void {
  for (const [k, v] of Object.entries(node)) {
    const key = Array.isArray(node) ? Number(k) : k;
    const p = [...at, key];
    if (typeof key === 'string' && isSecret(p)) {
      if (typeof v === 'object' && v !== null && Value.Check(SecretRefSchema, v)) {
        try {
          (node as Record<string, unknown>)[key] = resolveSecret(v as SecretRef, fieldName(p), baseDir);
        } catch (err) {
          problems.push({ code: 'GH_CONFIG_SECRET', path: p, message: (err as Error).message });
        }
      } else {
        problems.push({
          code: 'GH_CONFIG_SECRET',
          path: p,
          message: 'secrets stay out of the YAML: write { env: VARIABLE } or { file: PATH } here',
        });
      }
    } else if (typeof v === 'object' && v !== null) {
      resolveSecrets(v as Record<string, unknown>, [...at, key], baseDir, problems);
    }
  }
}

/**
 * Where a path points in the YAML source: the value, or for an unknown key the key
 * itself; for a missing field, its nearest existing parent.
 */
function locate(doc: Document, lc: LineCounter, p: (string | number)[], atKey = false): string {
  const at = (offset: number) => {
    const pos = lc.linePos(offset);
    return `${pos.line}:${pos.col}`;
  };
  const last = p[p.length - 1];
  if (atKey && typeof last === 'string') {
    const parent = doc.getIn(p.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((i) => isScalar(i.key) && i.key.value === last);
      if (pair && isNode(pair.key) && pair.key.range) return at(pair.key.range[0]);
    }
  }
  for (let n = p.length; n >= 0; n--) {
    const node = doc.getIn(p.slice(0, n), true);
    if (isNode(node) && node.range) return at(node.range[0]);
  }
  return '1:1';
}

function fieldName(p: (string | number)[]): string {
  return p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');
}

function describe(err: ValueError): { code: ErrorCode; message: string } {
  const schema = err.schema as { description?: string; enum?: unknown[] };
  if (err.message === 'Unexpected property') {
    return { code: 'GH_CONFIG_UNKNOWN_KEY', message: 'unknown key (remove it or check its spelling)' };
  }
  const hint = schema.description ? ` — expected ${schema.description}` : '';
  if (err.message === 'Expected required property') {
    return { code: 'GH_CONFIG_INVALID', message: `required field is missing${hint}` };
  }
  const got = err.value === undefined ? 'nothing' : JSON.stringify(err.value);
  return { code: 'GH_CONFIG_INVALID', message: `${err.message.toLowerCase()}, got ${got}${hint}` };
}

function pointer(p: string): (string | number)[] {
  return p
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Schema errors, deduplicated per path: a union's many branch errors become one line. */
function schemaProblems(schema: TSchema, value: unknown, base: (string | number)[]): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  // Defaults first: a field with a default is never "missing".
  for (const err of Value.Errors(schema, Value.Default(schema, structuredClone(value)))) {
    if (seen.has(err.path)) continue;
    seen.add(err.path);
    const at = [...base, ...pointer(err.path)];
    // A secret is resolved before validation: never echo its value into an error.
    const shown = isSecret(at) ? { ...err, value: '[secret]' } : err;
    out.push({ ...describe(shown), path: at });
  }
  return out;
}

function deviceSchema(plugin: DriverPlugin) {
  return Type.Composite([DeviceCommonSchema, plugin.options], { additionalProperties: false });
}

/** What is wrong with one device definition: schema, driver, kind, duplicate id, unknown bus. */
function deviceProblems(
  dev: Record<string, unknown>,
  base: (string | number)[],
  byDriver: Map<string, DriverPlugin>,
  ids: ReadonlySet<string>,
  busIds: ReadonlySet<string>,
): Problem[] {
  const plugin = byDriver.get(String(dev.driver));
  if (!plugin) {
    return [
      {
        code: 'GH_CONFIG_INVALID',
        path: [...base, 'driver'],
        message: `unknown driver ${JSON.stringify(dev.driver)} — expected one of ${[...byDriver.keys()].join(', ')}`,
      },
    ];
  }
  const problems = schemaProblems(deviceSchema(plugin), dev, base);
  if (problems.length > 0) return problems;
  if (!plugin.kinds.includes(dev.kind as never)) {
    problems.push({
      code: 'GH_CONFIG_INVALID',
      path: [...base, 'kind'],
      message: `driver ${plugin.driver} drives ${plugin.kinds.join(' or ')}, not ${String(dev.kind)}`,
    });
  }
  if (ids.has(String(dev.id))) {
    problems.push({
      code: 'GH_CONFIG_INVALID',
      path: [...base, 'id'],
      message: `duplicate device id "${String(dev.id)}"`,
    });
  }
  if (typeof dev.bus === 'string' && !busIds.has(dev.bus)) {
    problems.push({
      code: 'GH_CONFIG_INVALID',
      path: [...base, 'bus'],
      message: `no bus with id "${dev.bus}" under buses: (known: ${[...busIds].join(', ') || 'none'})`,
    });
  }
  return problems;
}

/**
 * Check one device definition outside a file (commissioning API): the same schema and
 * rules as the YAML, with secrets resolved. Throws GH_DEVICE_INVALID naming each field.
 */
export function checkDevice(
  raw: Record<string, unknown>,
  plugins: readonly DriverPlugin[],
  env: { buses: Map<string, Record<string, unknown>>; existingIds: ReadonlySet<string>; baseDir: string },
): DeviceConfig {
  const dev = structuredClone(raw);
  const problems: Problem[] = [];
  resolveSecrets(dev, [], env.baseDir, problems);
  const byDriver = new Map(plugins.map((p) => [p.driver, p]));
  if (problems.length === 0)
    problems.push(...deviceProblems(dev, [], byDriver, env.existingIds, new Set(env.buses.keys())));
  const plugin = byDriver.get(String(dev.driver));
  const config =
    problems.length === 0 && plugin ? (Value.Default(deviceSchema(plugin), dev) as DeviceConfig) : undefined;
  const err = config && plugin?.check?.(config, { buses: env.buses });
  if (err) problems.push({ code: 'GH_CONFIG_INVALID', path: [], message: err });
  if (problems.length > 0 || !config) {
    throw new GatehouseError('GH_DEVICE_INVALID', [
      problems.map((p) => `${fieldName(p.path) || 'device'}: ${p.message}`).join('; '),
    ]);
  }
  return config;
}

/**
 * Load and check a village config. Every problem names file:line:col and the field,
 * with a sentence saying what is expected; unknown keys are errors.
 */
export function loadConfig(
  file: string,
  sections: ConfigSections,
  plugins: readonly DriverPlugin[],
): LoadedConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    throw new GatehouseError('GH_CONFIG_NOT_FOUND', [abs]);
  }
  return parseConfig(text, abs, sections, plugins);
}

export function parseConfig(
  text: string,
  file: string,
  sections: ConfigSections,
  plugins: readonly DriverPlugin[],
): LoadedConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new GatehouseError('GH_CONFIG_YAML', [
      `${file}:${pos.line}:${pos.col}: YAML syntax error: ${e.message.split('\n')[0]}`,
    ]);
  }
  const raw: unknown = doc.toJS() ?? {};
  const schema = villageConfigSchema(sections);
  const problems: Problem[] = [];
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    resolveSecrets(raw as Record<string, unknown>, [], path.dirname(file), problems);
    if (problems.length === 0) problems.push(...schemaProblems(schema, raw, []));
  } else {
    problems.push({
      code: 'GH_CONFIG_INVALID',
      path: [],
      message: 'the file must be a mapping with at least `village: NAME`',
    });
  }

  const byDriver = new Map(plugins.map((p) => [p.driver, p]));
  const rawDevices = (raw as { devices?: unknown }).devices;
  const ids = new Set<string>();
  const rawBuses = (raw as { buses?: unknown }).buses;
  const busIds = new Set<string>(
    Array.isArray(rawBuses) ? rawBuses.map((b: { id?: unknown }) => String(b?.id)) : [],
  );
  if (problems.length === 0 && Array.isArray(rawDevices)) {
    rawDevices.forEach((dev: Record<string, unknown>, i) => {
      problems.push(...deviceProblems(dev, ['devices', i], byDriver, ids, busIds));
      ids.add(String(dev.id));
    });
  }
  if (problems.length > 0) {
    const lines = problems
      .slice(0, 20)
      .map(
        (p) =>
          `${file}:${locate(doc, lc, p.path, p.code === 'GH_CONFIG_UNKNOWN_KEY')}: ${fieldName(p.path) || '(top level)'}: ${p.message}`,
      );
    throw new GatehouseError(
      problems[0]!.code,
      [
        `invalid config (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${lines.join('\n  ')}`,
      ],
      { details: { problems: lines } },
    );
  }

  const config = Value.Default(schema, structuredClone(raw)) as VillageConfig;
  config.devices = config.devices.map((d, i) => {
    const plugin = byDriver.get(String(d.driver))!;
    const dev = Value.Default(deviceSchema(plugin), d) as DeviceConfig;
    const err = plugin.check?.(dev, { buses: new Map(config.buses.map((b) => [String(b.id), b] as const)) });
    if (err) {
      throw new GatehouseError('GH_CONFIG_INVALID', [
        `${file}:${locate(doc, lc, ['devices', i])}: devices[${i}]: ${err}`,
      ]);
    }
    return dev;
  });
  return { file, config };
}
