import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static, type TObject } from '@sinclair/typebox';
import { BarrierFieldsSchema, ProbeFieldsSchema } from '../contract/canonical.ts';
import { DriverError } from '../contract/errors.ts';
import { sourceDir } from '../contract/paths.ts';
import { parseYamlWithSchema, type CheckProblem } from '../contract/yaml-schema.ts';

export const DEFAULT_MQTT_PROFILE_DIR = path.join(sourceDir(import.meta.url), 'profiles');

const FieldMapSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'JSON path in the device message: a.b[0].c' }),
    scale: Type.Optional(Type.Number({ description: 'multiply a numeric value' })),
    offset: Type.Optional(Type.Number({ description: 'added after scaling' })),
    enum: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description: 'device value (as text) → canonical value',
      }),
    ),
  },
  { additionalProperties: false },
);
export type FieldMap = Static<typeof FieldMapSchema>;

/** A device that publishes JSON on its own topic, and how that JSON maps onto canonical fields. */
export const MqttProfileSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    kind: Type.Union([Type.Literal('barrier'), Type.Literal('probe')]),
    topic: Type.String({ default: 'raw', description: 'topic under gatehouse/v1/<village>/<device>/' }),
    expectedIntervalMs: Type.Integer({
      minimum: 10,
      default: 5000,
      description: 'how often the device publishes',
    }),
    timeoutFactor: Type.Number({
      minimum: 1,
      default: 3,
      description: 'offline(timeout) after this many silent intervals',
    }),
    fields: Type.Record(Type.String(), FieldMapSchema),
  },
  { additionalProperties: false },
);
export type MqttProfile = Static<typeof MqttProfileSchema> & { source: string };

export function canonicalSchemaOf(kind: MqttProfile['kind']): TObject {
  return kind === 'barrier' ? BarrierFieldsSchema : ProbeFieldsSchema;
}

/** Only canonical fields of the profile's kind can be mapped. */
function semanticProblems(profile: Static<typeof MqttProfileSchema>): CheckProblem[] {
  const known = Object.keys(canonicalSchemaOf(profile.kind).properties);
  return Object.keys(profile.fields)
    .filter((field) => !known.includes(field))
    .map((field) => ({
      kind: 'unknown-key',
      path: ['fields', field],
      message: `not a canonical ${profile.kind} field (one of ${known.join(', ')})`,
    }));
}

/** Parse and check a profile; errors name the file, line, column and field (DriverError profile-invalid). */
export function parseMqttProfile(text: string, source: string): MqttProfile {
  const profile = parseYamlWithSchema(text, source, MqttProfileSchema, {
    errorKind: 'profile-invalid',
    check: semanticProblems,
  });
  return { ...profile, source };
}

export function loadMqttProfile(
  nameOrPath: string,
  dirs: string[] = [DEFAULT_MQTT_PROFILE_DIR],
): MqttProfile {
  const isPath = /\.ya?ml$/.test(nameOrPath) || nameOrPath.includes('/');
  const candidates = isPath
    ? [path.resolve(nameOrPath)]
    : dirs.map((d) => path.join(d, `${nameOrPath}.yaml`));
  const file = candidates.find((f) => existsSync(f));
  if (!file)
    throw new DriverError(
      'profile-not-found',
      `no device profile named "${nameOrPath}" (looked in ${isPath ? candidates[0]! : dirs.join(', ')})`,
    );
  return parseMqttProfile(readFileSync(file, 'utf8'), file);
}
