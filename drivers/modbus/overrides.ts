import { Type, type Static } from '@sinclair/typebox';
import { DriverError } from '../contract/errors.ts';
import { fieldName, validate } from '../contract/schema-problems.ts';
import {
  BARRIER_FIELDS,
  FieldMapSchema,
  ProfileSchema,
  semanticProblems,
  type FieldMap,
  type Profile,
} from './profile.ts';

/**
 * Per-device corrections of a profile, for what a vendor's map leaves open (which input
 * bit the photo-eye is wired to, the resolution of a temperature) or what one site's
 * firmware does differently. An override of a mapped field replaces the keys it names
 * and confirms the mapping (its `unverified` note is dropped, even when the values are
 * the profile's own); a field the profile leaves out is added with a full mapping.
 */
export const FieldOverrideSchema = Type.Partial(Type.Omit(FieldMapSchema, ['field', 'unverified']));

export const OverridesSchema = Type.Partial(
  Type.Object(Object.fromEntries(BARRIER_FIELDS.map((f) => [f, FieldOverrideSchema]))),
  {
    additionalProperties: false,
    description:
      'per canonical field: keys that replace the profile mapping on this device (e.g. { photo_eye_blocked: { bit: 3 } })',
  },
);
export type Overrides = Static<typeof OverridesSchema>;

/** The profile with the device's overrides applied; throws DriverError invalid-config when the result is not a valid profile. */
export function withOverrides(profile: Profile, overrides: Overrides | undefined, device: string): Profile {
  if (!overrides || Object.keys(overrides).length === 0) return profile;
  const fields = profile.fields.map((f) => ({ ...f }));
  for (const [field, o] of Object.entries(overrides)) {
    if (!o) continue;
    const at = fields.findIndex((f) => f.field === field);
    const merged = { ...(at >= 0 ? fields[at] : { field }), ...o } as FieldMap;
    delete merged.unverified;
    if (at >= 0) fields[at] = merged;
    else fields.push(merged);
  }
  const { source, ...rest } = { ...profile, fields };
  const { problems } = validate(ProfileSchema, rest);
  if (problems.length === 0)
    problems.push(...semanticProblems(rest).map((p) => ({ ...p, kind: 'invalid' as const })));
  if (problems.length > 0) {
    // fields[6] means nothing to whoever wrote the override: name the field instead.
    const name = (p: { path: (string | number)[] }) =>
      fieldName(p.path).replace(
        /^fields\[(\d+)\]/,
        (_, i: string) => `overrides.${fields[Number(i)]?.field}`,
      );
    const what = problems.map((p) => `${name(p)}: ${p.message}`).join('; ');
    throw new DriverError(
      'invalid-config',
      `device "${device}": overrides make profile ${profile.name} invalid: ${what}`,
    );
  }
  return { ...rest, source };
}
