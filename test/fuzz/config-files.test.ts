import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DriverError } from '../../drivers/contract/errors.ts';
import { DEFAULT_PROFILE_DIR, parseProfile } from '../../drivers/modbus/profile.ts';
import { DEFAULT_MQTT_PROFILE_DIR, parseMqttProfile } from '../../drivers/mqtt/profile.ts';
import { parseConfig } from '../../gateway/config/load.ts';
import { SECTIONS } from '../../gateway/config/sections.ts';
import { createDriverPlugins } from '../../gateway/plugins.ts';
import { GatehouseError } from '../../gateway/errors.ts';
import { TIMEOUT_MS, fcOptions } from './runs.ts';

// (The config's seed names an MQTT device, not a Modbus one: each valid Modbus device
// loads its profile, ~20 ms, which would make this property alone take minutes.)
// Config and profile files as an installer's editor, a bad copy-paste or a hostile
// file leave them: each parser accepts, or throws its own error (GatehouseError for the
// village config, DriverError for profiles) whose every problem starts file:line:col.

const FILE = '/etc/gatehouse/fuzz.yaml';
const PLUGINS = createDriverPlugins();
const parseVillageConfig = (text: string, file: string) => parseConfig(text, file, SECTIONS, PLUGINS);
const VALID_CONFIG = `village: fuzzville
buses:
  - { id: tcp-1, type: tcp, host: 127.0.0.1, port: 502 }
devices:
  - { id: gate-1, kind: barrier, driver: mqtt, profile: lumen-gate-mqtt, lane: lane-1 }
  - id: cam-1
    kind: probe
    driver: onvif
    url: http://127.0.0.1:8080/onvif/device_service
influx: { url: http://127.0.0.1:8086, batchSize: 500 }
`;

/** A text edited badly: characters cut, duplicated or replaced at random places. */
const mangled = (text: string) =>
  fc
    .array(
      fc.tuple(
        fc.nat(text.length),
        fc.nat(8),
        fc.constantFrom('', ':', '-', ' ', '\n', '{', '[', '"', '&a', '*a', '!!js', '\t', '#', '0x', '~'),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((edits) => edits.reduce((t, [at, cut, put]) => t.slice(0, at) + put + t.slice(at + cut), text));

/** YAML documents from random values: right keys with wrong types, wrong keys, deep nests. */
const keyName = fc.constantFrom(
  'village',
  'devices',
  'buses',
  'id',
  'kind',
  'driver',
  'profile',
  'port',
  'url',
  'fields',
  'registers',
  'commands',
  'name',
  'path',
  'x',
);
const randomDoc = fc
  .dictionary(keyName, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
  .map((o) => stringify(o));

/** YAML alias bombs: a few lines that expand to a huge tree. */
const aliasBomb = fc.integer({ min: 2, max: 9 }).map((n) => {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i <= n; i++)
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return `village: v\n${lines.join('\n')}\n`;
});

function located(message: string): void {
  const lines = message.split('\n').filter((l) => l.includes(FILE));
  expect(lines.length, message).toBeGreaterThan(0);
  for (const l of lines) expect(l, message).toMatch(/\/etc\/gatehouse\/fuzz\.yaml:\d+:\d+: /);
}

function check(parse: () => unknown, ErrorType: typeof GatehouseError | typeof DriverError): void {
  try {
    parse();
  } catch (err) {
    if (!(err instanceof ErrorType)) throw err;
    located(err.message);
  }
}

const anyText = (valid: string) =>
  fc.oneof(mangled(valid), randomDoc, aliasBomb, fc.string({ maxLength: 200 }));

describe('config and profile files', { timeout: TIMEOUT_MS }, () => {
  const modbus = readFileSync(path.join(DEFAULT_PROFILE_DIR, 'northgate-hr.yaml'), 'utf8');
  const mqtt = readFileSync(path.join(DEFAULT_MQTT_PROFILE_DIR, 'lumen-gate-mqtt.yaml'), 'utf8');

  it('the valid texts the generators start from parse', () => {
    expect(parseVillageConfig(VALID_CONFIG, FILE).config.devices).toHaveLength(2);
    expect(parseProfile(modbus, FILE).name).toBe('northgate-hr');
    expect(parseMqttProfile(mqtt, FILE).name).toBe('lumen-gate-mqtt');
  });

  it('village config (parseConfig): accepted, or a GatehouseError at file:line:col', () => {
    fc.assert(
      fc.property(anyText(VALID_CONFIG), (t) => check(() => parseVillageConfig(t, FILE), GatehouseError)),
      fcOptions(),
    );
  });

  it('Modbus profile (parseProfile): accepted, or a DriverError at file:line:col', () => {
    fc.assert(
      fc.property(anyText(modbus), (t) => check(() => parseProfile(t, FILE), DriverError)),
      fcOptions(),
    );
  });

  it('MQTT profile (parseMqttProfile): accepted, or a DriverError at file:line:col', () => {
    fc.assert(
      fc.property(anyText(mqtt), (t) => check(() => parseMqttProfile(t, FILE), DriverError)),
      fcOptions(),
    );
  });
});

describe('regressions found by the properties', { timeout: TIMEOUT_MS }, () => {
  it('a YAML alias bomb is a located error, not a ReferenceError from the YAML library', () => {
    // Shrunk: three lines of aliases; yaml's toJS threw "Excessive alias count" unwrapped.
    const bomb =
      'village: v\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\na1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\na2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]\n';
    expect(() => parseVillageConfig(bomb, FILE)).toThrow(GatehouseError);
    expect(() => parseVillageConfig(bomb, FILE)).toThrow(
      /fuzz\.yaml:3:\d+: YAML refused: Excessive alias count/,
    );
    expect(() => parseProfile(bomb, FILE)).toThrow(DriverError);
    expect(() => parseMqttProfile(bomb, FILE)).toThrow(DriverError);
  });

  it('a command name no gateway action has is refused at its line, not passed on unchecked', () => {
    // Shrunk from a damaged northgate-hr: `stop` cut to `op`, its write to `{ype: …, addre values: …}`;
    // the commands map let unknown names through and the semantic check then read w.values of nothing.
    const text = `name: t
fields:
  - { field: arm_state, type: holding, address: 0, states: { '0': closed, '2': open } }
commands:
  open: { steps: [{ write: { type: holding, address: 9, values: [1] } }] }
  op: { steps: [{ write: {ype: holding, addre values: [5], sequence: true } }] }
`;
    expect(() => parseProfile(text, FILE)).toThrow(DriverError);
    expect(() => parseProfile(text, FILE)).toThrow(/fuzz\.yaml:6:\d+: commands\.op: /);
  });
});
