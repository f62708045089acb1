import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadVillageConfig } from '../../gateway/config/sections.ts';
import { GatehouseError } from '../../gateway/errors.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-config-'));
let n = 0;
function write(text: string): string {
  const file = path.join(dir, `village-${++n}.yaml`);
  writeFileSync(file, text);
  return file;
}

function failure(file: string): GatehouseError {
  try {
    loadVillageConfig(file);
  } catch (err) {
    if (err instanceof GatehouseError) return err;
    throw err;
  }
  throw new Error('config was accepted');
}

const VALID = `village: oakfield
site: north-lot
buses:
  - id: rs485-1
    type: rtu
    path: /dev/ttyUSB0
    baud: 9600
devices:
  - id: north-in
    kind: barrier
    driver: modbus
    bus: rs485-1
    unit: 1
    profile: northgate-hr
    lane: in-1
  - id: north-cam
    kind: probe
    driver: onvif
    url: http://10.0.0.21/onvif/device_service
    username: admin
    password: { env: GH_TEST_CAM_PASSWORD }
    lane: in-1
`;

describe('village config', () => {
  it('accepts a config holding only the village name', () => {
    const { config } = loadVillageConfig(write('village: oakfield\n'));
    expect(config.village).toBe('oakfield');
    expect(config.devices).toEqual([]);
  });

  it('loads a full config, fills defaults and resolves secrets from the environment', () => {
    process.env.GH_TEST_CAM_PASSWORD = 's3cret';
    const { config } = loadVillageConfig(write(VALID));
    expect(config.devices.map((d) => d.id)).toEqual(['north-in', 'north-cam']);
    const cam = config.devices[1]!;
    expect(cam.password).toBe('s3cret');
    expect(cam.irLumaThreshold).toBe(25); // driver default filled in
  });

  it('names file, line, column and field for a wrong type', () => {
    process.env.GH_TEST_CAM_PASSWORD = 's3cret';
    const file = write(VALID.replace('unit: 1', 'unit: one'));
    const err = failure(file);
    expect(err.code).toBe('GH_CONFIG_INVALID');
    expect(err.message).toContain(`${file}:13:11: devices[0].unit: expected integer, got "one"`);
  });

  it('refuses an unknown key, naming where it is', () => {
    const file = write('village: oakfield\napi:\n  port: 8080\n  prot: 9090\n');
    const err = failure(file);
    expect(err.code).toBe('GH_CONFIG_UNKNOWN_KEY');
    expect(err.message).toContain(`${file}:4:3: api.prot: unknown key`);
  });

  it('refuses an unknown key inside a device', () => {
    process.env.GH_TEST_CAM_PASSWORD = 's3cret';
    const file = write(
      VALID.replace('    lane: in-1\n  - id: north-cam', '    lnae: in-1\n  - id: north-cam'),
    );
    const err = failure(file);
    expect(err.message).toMatch(new RegExp(`${file}:15:5: devices\\[0\\]\\.lnae: unknown key`));
  });

  it('says the file is missing', () => {
    const err = failure(path.join(dir, 'nope.yaml'));
    expect(err.code).toBe('GH_CONFIG_NOT_FOUND');
    expect(err.message).toContain(path.join(dir, 'nope.yaml'));
  });

  it('reports YAML syntax errors with line and column', () => {
    const file = write('village: oakfield\ndevices:\n  - id: a\n   kind: barrier\n');
    const err = failure(file);
    expect(err.code).toBe('GH_CONFIG_YAML');
    expect(err.message).toMatch(new RegExp(`^${file}:4:\\d+: YAML syntax error`));
  });

  it('refuses a plain-text password and an unset secret variable', () => {
    const plain = write(VALID.replace('password: { env: GH_TEST_CAM_PASSWORD }', 'password: hunter2'));
    expect(failure(plain).message).toContain(
      `${plain}:21:15: devices[1].password: secrets stay out of the YAML`,
    );
    delete process.env.GH_TEST_CAM_PASSWORD;
    const unset = write(VALID);
    expect(failure(unset).message).toContain('environment variable GH_TEST_CAM_PASSWORD is not set');
  });

  it('treats an API token as a secret but a relay output token as a plain name', () => {
    process.env.GH_TEST_CAM_PASSWORD = 's3cret';
    const relay = write(
      VALID.replace(
        '    lane: in-1\n',
        '    lane: in-1\n  - { id: side, kind: barrier, driver: onvif-relay, url: http://10.0.0.22/onvif/device_service, relay: { token: RelayOutput_1 } }\n',
      ),
    );
    expect(loadVillageConfig(relay).config.devices[1]).toMatchObject({ relay: { token: 'RelayOutput_1' } });
    const api = write(
      'village: oakfield\napi:\n  tokens:\n    - { name: fee, role: platform, token: abcdefghijklmnopqrstuvwxyz }\n',
    );
    expect(failure(api).message).toContain(`${api}:4:43: api.tokens[0].token: secrets stay out of the YAML`);
  });

  it('checks references between sections and says what exists', () => {
    process.env.GH_TEST_CAM_PASSWORD = 's3cret';
    const file = write(VALID.replace('bus: rs485-1', 'bus: rs485-9'));
    expect(failure(file).message).toContain(
      'devices[0].bus: no bus with id "rs485-9" under buses: (known: rs485-1)',
    );
    const dup = write(VALID.replace('id: north-cam', 'id: north-in'));
    expect(failure(dup).message).toContain('devices[1].id: duplicate device id "north-in"');
    const drv = write(VALID.replace('driver: modbus', 'driver: bacnet'));
    expect(failure(drv).message).toContain(
      'devices[0].driver: unknown driver "bacnet" — expected one of modbus',
    );
  });

  it('refuses a profile that does not exist, naming the device', () => {
    process.env.GH_TEST_CAM_PASSWORD = 's3cret';
    const file = write(VALID.replace('profile: northgate-hr', 'profile: acme-9000'));
    const err = failure(file);
    expect(err.message).toMatch(/devices\[0\]: profile: .*acme-9000/);
  });

  it('refuses a tcp bus without a host, naming the field of its bus type', () => {
    const file = write('village: oakfield\nbuses:\n  - id: lan\n    type: tcp\n    port: 502\n');
    const err = failure(file);
    expect(err.code).toBe('GH_CONFIG_INVALID');
    expect(err.message).toContain('invalid config (1 problem)');
    expect(err.message).toContain(`${file}:3:5: buses[0].host: required field is missing — expected`);
  });

  it('lists several problems at once', () => {
    const file = write('village: Oak Field\nlogLevel: loud\n');
    const err = failure(file);
    expect(err.message).toContain('2 problems');
    expect(err.message).toContain(`${file}:1:10: village:`);
    expect(err.message).toContain(`${file}:2:11: logLevel:`);
  });
});
