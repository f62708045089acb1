import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { GatehouseError, type ErrorCode } from '../errors.ts';
import type { DeviceConfig, DriverPlugin } from '../../drivers/contract/plugin.ts';
import { DeviceCommonSchema } from '../../drivers/contract/device.ts';
import { fieldName, validate, type ProblemKind } from '../../drivers/contract/schema-problems.ts';
import {
  parseYamlWithSchema,
  SchemaLoadError,
  type CheckProblem,
} from '../../drivers/contract/yaml-schema.ts';
import type { ModbusBusSettings } from '../../drivers/modbus/config.ts';
import type { BridgeConfig } from '../bridge/config.ts';
import type { BrokerConfig } from '../broker/config.ts';
import type { InfluxSinkConfig, InfluxTarget } from '../sinks/influx/config.ts';
import { villageConfigSchema } from './schema.ts';
import { resolveSecret } from './secrets.ts';

export interface ConfigSections {
  broker: TSchema;
  influx: TSchema;
  influxTarget: TSchema;
  bridge: TSchema;
  bus: TSchema;
}

/**
 * A loaded village config, defaults filled. The sections modules own are typed by
 * those modules' schemas (the loader validated them against exactly those).
 */
export type VillageConfig = Omit<
  Static<ReturnType<typeof villageConfigSchema>>,
  'devices' | 'buses' | 'broker' | 'influx' | 'influxTargets' | 'bridge'
> & {
  devices: DeviceConfig[];
  buses: ModbusBusSettings[];
  broker: BrokerConfig;
  influx: InfluxSinkConfig;
  influxTargets: InfluxTarget[];
  bridge?: BridgeConfig;
};

export interface LoadedConfig {
  file: string;
  config: VillageConfig;
}

const CODES: Record<ProblemKind, ErrorCode> = {
  yaml: 'GH_CONFIG_YAML',
  'unknown-key': 'GH_CONFIG_UNKNOWN_KEY',
  invalid: 'GH_CONFIG_INVALID',
  secret: 'GH_CONFIG_SECRET',
};

/**
 * A device's schema: the common fields and its driver's options, with `driver` a
 * literal so that the union of all drivers reports against the device's own driver.
 */
function deviceSchema(plugin: DriverPlugin) {
  return Type.Composite(
    [
      Type.Omit(DeviceCommonSchema, ['driver']),
      Type.Object({ driver: Type.Literal(plugin.driver) }),
      plugin.options,
    ],
    { additionalProperties: false },
  );
}

function devicesSchema(plugins: readonly DriverPlugin[]): TSchema {
  return Type.Union(plugins.map(deviceSchema));
}

/** Rules between a device and the rest of the config, then the driver's own check. */
function deviceProblems(
  dev: DeviceConfig,
  at: (string | number)[],
  plugin: DriverPlugin,
  env: { buses: Map<string, Record<string, unknown>>; ids: ReadonlySet<string> },
): CheckProblem[] {
  const problems: CheckProblem[] = [];
  if (!plugin.kinds.includes(dev.kind)) {
    problems.push({
      path: [...at, 'kind'],
      message: `driver ${plugin.driver} drives ${plugin.kinds.join(' or ')}, not ${dev.kind}`,
    });
  }
  if (env.ids.has(dev.id)) {
    problems.push({ path: [...at, 'id'], message: `duplicate device id "${dev.id}"` });
  }
  if (typeof dev.bus === 'string' && !env.buses.has(dev.bus)) {
    problems.push({
      path: [...at, 'bus'],
      message: `no bus with id "${dev.bus}" under buses: (known: ${[...env.buses.keys()].join(', ') || 'none'})`,
    });
  }
  const err = problems.length === 0 ? plugin.check?.(dev, { buses: env.buses }) : undefined;
  if (err) problems.push({ path: at, message: err });
  return problems;
}

function villageProblems(config: VillageConfig, byDriver: Map<string, DriverPlugin>): CheckProblem[] {
  const buses = new Map(config.buses.map((b) => [String(b.id), b] as const));
  const ids = new Set<string>();
  const targets = new Set<string>();
  const targetProblems = config.influxTargets.flatMap((t, i): CheckProblem[] => {
    const dup = targets.has(t.name);
    targets.add(t.name);
    return dup
      ? [{ path: ['influxTargets', i, 'name'], message: `duplicate InfluxDB target name "${t.name}"` }]
      : [];
  });
  return [
    ...targetProblems,
    ...config.devices.flatMap((dev, i) => {
      const problems = deviceProblems(dev, ['devices', i], byDriver.get(dev.driver)!, { buses, ids });
      ids.add(dev.id);
      return problems;
    }),
  ];
}

/** The loader's problems under the config's error codes; the first problem decides the code. */
function configError(err: SchemaLoadError): GatehouseError {
  const lines = err.lines;
  const code = CODES[err.problems[0]!.kind];
  const text =
    code === 'GH_CONFIG_YAML'
      ? lines.join('\n')
      : `invalid config (${lines.length} problem${lines.length > 1 ? 's' : ''}):\n  ${lines.join('\n  ')}`;
  return new GatehouseError(code, [text], { details: { problems: lines } });
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
  const byDriver = new Map(plugins.map((p) => [p.driver, p]));
  const { value, problems } = validate(devicesSchema(plugins), raw, (ref) => resolveSecret(ref, env.baseDir));
  const dev = value as DeviceConfig;
  const all: CheckProblem[] =
    problems.length > 0
      ? problems
      : deviceProblems(dev, [], byDriver.get(dev.driver)!, { buses: env.buses, ids: env.existingIds });
  if (all.length > 0) {
    throw new GatehouseError('GH_DEVICE_INVALID', [
      all.map((p) => `${fieldName(p.path) || 'device'}: ${p.message}`).join('; '),
    ]);
  }
  return dev;
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
  const byDriver = new Map(plugins.map((p) => [p.driver, p]));
  const schema = villageConfigSchema({ ...sections, device: devicesSchema(plugins) });
  try {
    const config = parseYamlWithSchema(text, file, schema, {
      resolveSecret: (ref) => resolveSecret(ref, path.dirname(file)),
      check: (c) => villageProblems(c as VillageConfig, byDriver),
    }) as VillageConfig;
    return { file, config };
  } catch (err) {
    if (err instanceof SchemaLoadError) throw configError(err);
    throw err;
  }
}
