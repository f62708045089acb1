import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readProfile } from '../../device-sims/barrier/profile.ts';
import { OverridesSchema, withOverrides } from '../../drivers/modbus/overrides.ts';
import { FieldMapSchema, loadProfile, parseProfile, ProfileSchema } from '../../drivers/modbus/profile.ts';
import { DeviceInfoItemSchema, IdentifyCheckSchema } from '../../drivers/modbus/profile-sections.ts';
import { ROOT } from '../helpers/doc-blocks.ts';

/**
 * docs/profiles.md against the code: every Modbus profile it shows loads in the driver
 * and in the simulator alike, the CAME example is the shipped file's own text, and every
 * key the loader takes is explained.
 */
const doc = readFileSync(path.join(ROOT, 'docs/profiles.md'), 'utf8');
const modbus = doc.slice(
  doc.indexOf('## Modbus barrier controllers'),
  doc.indexOf('## Devices that publish JSON'),
);
const yamlBlocks = [...modbus.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
const profiles = yamlBlocks.filter((b) => /^name: /m.test(b));

const noProse = (p: object): unknown =>
  JSON.parse(
    JSON.stringify(p, (k, v: unknown) =>
      ['description', 'unit', 'vendor', 'faultCodes', 'source', 'multiple'].includes(k) ? undefined : v,
    ),
  );

describe('docs/profiles.md (Modbus)', () => {
  it('shows at least the format example and the CAME example', () => {
    expect(profiles.map((b) => /^name: (\S+)/m.exec(b)![1])).toEqual(['acme-bx9', 'came-barrier']);
  });

  for (const text of profiles) {
    const name = /^name: (\S+)/m.exec(text)![1]!;
    it(`${name}: the driver and the simulator load it and read the same thing`, () => {
      const drv = parseProfile(text, `docs/profiles.md (${name})`);
      const sim = readProfile(text, `docs/profiles.md (${name})`);
      expect(noProse(sim)).toEqual(noProse(drv));
    });
  }

  it('the CAME example is the shipped profile, cut down', () => {
    const shown = parseProfile(profiles[1]!, 'doc');
    const shipped = loadProfile('came-barrier');
    for (const f of shown.fields)
      expect(noProse(f)).toEqual(noProse(shipped.fields.find((x) => x.field === f.field)!));
    expect(shown.commands).toEqual(shipped.commands);
    expect(noProse(shown.deviceInfo!)).toEqual(noProse(shipped.deviceInfo!));
    expect(noProse(shown.identify!)).toEqual(noProse(shipped.identify!));
    expect(shown.wordOrder).toBe(shipped.wordOrder);
  });

  it('the overrides example is valid for the CAME profile', () => {
    const block = yamlBlocks.find((b) => b.includes('overrides:'))!;
    const device = (parse(block) as { devices: { id: string; overrides: unknown }[] }).devices[0]!;
    expect([...Value.Errors(OverridesSchema, device.overrides)]).toEqual([]);
    const p = withOverrides(loadProfile('came-barrier'), device.overrides as never, device.id);
    expect(p.fields.find((f) => f.field === 'photo_eye_blocked')).toMatchObject({ bit: 2 });
  });

  it('explains every key the loader takes', () => {
    const keys = [
      ...Object.keys(FieldMapSchema.properties),
      ...Object.keys(DeviceInfoItemSchema.properties),
      ...Object.keys(IdentifyCheckSchema.properties),
    ].filter((k) => k !== 'description');
    const missing = [...new Set(keys)].filter((k) => !modbus.includes(`\`${k}\``));
    expect(missing).toEqual([]);
    const sections = Object.keys(ProfileSchema.properties).filter(
      // reversal and closeIfClear belong to the supervised-close work, which documents them.
      (k) => !['name', 'vendor', 'description', 'fields', 'reversal', 'closeIfClear'].includes(k),
    );
    expect(
      sections.filter((k) => !new RegExp(`^${k}:`, 'm').test(modbus) && !modbus.includes(`\`${k}\``)),
    ).toEqual([]);
  });
});
