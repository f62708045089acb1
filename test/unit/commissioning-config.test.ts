import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigStore } from '../../gateway/commissioning/config-store.ts';
import { appendEntry, removeEntry, replaceEntry } from '../../gateway/commissioning/yaml-edit.ts';
import { createDriverPlugins } from '../../gateway/plugins.ts';

// The installer's village.yaml goes through commissioning changes with every comment,
// the order of keys and entries, and the layout of what was not changed.

const VILLAGE = `# Oakfield village gateway — edited by hand, keep these notes
village: oakfield # topic prefix
site: main-lot

# --- lines ---
buses:
  - { id: rs485-1, type: rtu, path: /dev/ttyUSB0, baud: 9600 } # cabinet A, left rail
  - id: west-ctrl # the controller's own TCP port
    type: tcp
    host: 10.0.4.31
    port: 502

devices:
  # north lane
  - { id: north-in, kind: barrier, driver: modbus, bus: rs485-1, unit: 1, profile: northgate-hr, lane: north-in }
  - id: north-out # replaced 2024-03
    kind: barrier
    driver: modbus
    bus: rs485-1
    # unit set on the DIP switches
    unit: 2
    profile: pulsar-relay
    lane: north-out
  # west lane: the old controller, to be removed
  - id: west-in
    kind: barrier # the one with the bent arm
    driver: modbus
    bus: west-ctrl
    unit: 1
    profile: northgate-hr
commands:
  confirmTimeoutMs: 12000 # slow arms
# end of file
`;

const comments = (text: string) =>
  text.split('\n').flatMap((l) => (l.includes('#') ? [l.slice(l.indexOf('#'))] : []));
const keysOf = (text: string) => Object.keys(parse(text) as object);

function store(text: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-cfg-'));
  const file = path.join(dir, 'village.yaml');
  writeFileSync(file, text);
  return { dir, file, store: new ConfigStore(file, createDriverPlugins()) };
}

describe('commissioning edits of the village YAML', () => {
  it('keeps every comment, the key order and untouched lines through add, change and remove', async () => {
    const { file, store: s, dir } = store(VILLAGE);
    chmodSync(file, 0o640);

    await s.change((doc) =>
      appendEntry(doc, 'devices', {
        id: 'south-in',
        kind: 'barrier',
        driver: 'modbus',
        bus: 'west-ctrl',
        unit: 4,
        profile: 'pulsar-relay',
      }),
    );
    let text = readFileSync(file, 'utf8');
    expect(comments(text)).toEqual(comments(VILLAGE));
    expect(keysOf(text)).toEqual(keysOf(VILLAGE));
    const devices = () => (parse(readFileSync(file, 'utf8')) as { devices: { id: string }[] }).devices;
    expect(devices().map((d) => d.id)).toEqual(['north-in', 'north-out', 'west-in', 'south-in']);
    // Nothing but the new entry was rewritten: the old text is a prefix of each part.
    const [head] = VILLAGE.split('commands:');
    expect(text.startsWith(head!.trimEnd())).toBe(true);

    await s.change((doc) => {
      replaceEntry(doc, 'devices', 'north-out', {
        id: 'north-out',
        kind: 'barrier',
        driver: 'modbus',
        bus: 'rs485-1',
        unit: 7,
        profile: 'pulsar-relay',
        lane: 'north-out',
        pollMs: 500,
      });
      replaceEntry(doc, 'devices', 'north-in', {
        id: 'north-in',
        kind: 'barrier',
        driver: 'modbus',
        bus: 'rs485-1',
        unit: 1,
        profile: 'northgate-hr',
        lane: 'north-in-2',
      });
    });
    text = readFileSync(file, 'utf8');
    expect(comments(text)).toEqual(comments(VILLAGE));
    expect(text).toContain('    # unit set on the DIP switches\n    unit: 7\n');
    expect(text).toContain('    lane: north-out\n    pollMs: 500\n');
    expect(text).toContain(
      '  - { id: north-in, kind: barrier, driver: modbus, bus: rs485-1, unit: 1, profile: northgate-hr, lane: north-in-2 }\n',
    );
    const northOut = devices()[1] as Record<string, unknown>;
    expect(Object.keys(northOut)).toEqual([
      'id',
      'kind',
      'driver',
      'bus',
      'unit',
      'profile',
      'lane',
      'pollMs',
    ]);

    await s.change((doc) => removeEntry(doc, 'devices', 'west-in'));
    text = readFileSync(file, 'utf8');
    // The removed entry's own comment goes with it; the one above it stays where it stood.
    expect(comments(text)).toEqual(comments(VILLAGE).filter((c) => c !== '# the one with the bent arm'));
    expect(devices().map((d) => d.id)).toEqual(['north-in', 'north-out', 'south-in']);
    expect(keysOf(text)).toEqual(keysOf(VILLAGE));

    // Written atomically: the mode kept, no temp file left beside it.
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['village.yaml']);
  });

  it('adds and removes buses, with the comments of the section kept', async () => {
    const { file, store: s } = store(VILLAGE);
    const saved = await s.change((doc) =>
      appendEntry(doc, 'buses', { id: 'east', type: 'tcp', host: 'h', port: 502 }),
    );
    expect(saved!.config.buses.map((b) => b.id)).toEqual(['rs485-1', 'west-ctrl', 'east']);
    // The loader read it back with its defaults, as a start would.
    expect(saved!.config.buses[2]).toMatchObject({ id: 'east', timeoutMs: 300, retries: 1 });
    await s.change((doc) => removeEntry(doc, 'buses', 'east'));
    expect(readFileSync(file, 'utf8')).toBe(VILLAGE);
  });

  it('refuses a change the loader would refuse, naming where, and leaves the file alone', async () => {
    const { file, store: s } = store(VILLAGE);
    await expect(s.change((doc) => removeEntry(doc, 'buses', 'west-ctrl'))).rejects.toMatchObject({
      code: 'GH_CONFIG_REFUSED',
      statusCode: 409,
      message: expect.stringMatching(/devices\[2\]\.bus: no bus with id "west-ctrl"/),
    });
    expect(readFileSync(file, 'utf8')).toBe(VILLAGE);
  });

  it('undoes a saved change to the very text it replaced', async () => {
    const { file, store: s } = store(VILLAGE);
    const saved = await s.change((doc) => removeEntry(doc, 'devices', 'north-in'));
    expect(readFileSync(file, 'utf8')).not.toBe(VILLAGE);
    await saved!.undo();
    expect(readFileSync(file, 'utf8')).toBe(VILLAGE);
  });

  it('starts a list for the first device of a bare config', async () => {
    const { file, store: s } = store('village: bare # nothing yet\n');
    await s.change((doc) =>
      appendEntry(doc, 'devices', { id: 'cam', kind: 'probe', driver: 'onvif', url: 'http://c' }),
    );
    expect(readFileSync(file, 'utf8')).toBe(
      'village: bare # nothing yet\ndevices:\n  - id: cam\n    kind: probe\n    driver: onvif\n    url: http://c\n',
    );
    await s.change((doc) => removeEntry(doc, 'devices', 'cam'));
    expect(readFileSync(file, 'utf8')).toBe('village: bare # nothing yet\ndevices: []\n');
  });
});
