import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { ArmStateSchema, BarrierFieldsSchema } from '../contract/canonical.ts';
import { DriverError } from '../contract/errors.ts';
import { BARRIER_ACTIONS } from '../contract/driver.ts';
import { sourceDir } from '../contract/paths.ts';
import { parseYamlWithSchema, type CheckProblem } from '../contract/yaml-schema.ts';
import { DeviceInfoSchema, IdentifySchema, RegisterTypeSchema, sectionProblems } from './profile-sections.ts';

/**
 * Barrier controller register maps as data. A profile says which register feeds which
 * canonical field and how each gate command is written, so a new vendor needs only a
 * YAML file. The simulator serves the same profile the driver reads.
 */
export const DEFAULT_PROFILE_DIR = path.join(sourceDir(import.meta.url), 'profiles');

const lit = <T extends string>(...xs: T[]) => Type.Union(xs.map((x) => Type.Literal(x)));
export const BARRIER_FIELDS = Object.keys(BarrierFieldsSchema.properties) as (keyof Static<
  typeof BarrierFieldsSchema
>)[];
export type BarrierField = (typeof BARRIER_FIELDS)[number];
export const BOOLEAN_FIELDS: readonly BarrierField[] = ['loop_occupied', 'photo_eye_blocked', 'hold_open'];
export const INTEGER_FIELDS: readonly BarrierField[] = [
  'fault_code',
  'cycles',
  'vehicles_in',
  'vehicles_out',
];

export { RegisterTypeSchema };
export type RegisterType = Static<typeof RegisterTypeSchema>;
export const DataTypeSchema = lit('u16', 'i16', 'u32', 'i32', 'f32', 'bitfield');
export type DataType = Static<typeof DataTypeSchema>;
const OrderSchema = lit('big', 'little');
const Address = Type.Integer({ minimum: 0, maximum: 65535 });

export const FieldMapSchema = Type.Object(
  {
    field: lit(...BARRIER_FIELDS),
    type: RegisterTypeSchema,
    address: Address,
    dataType: Type.Optional(DataTypeSchema),
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 15 })),
    wordOrder: Type.Optional(OrderSchema),
    byteOrder: Type.Optional(OrderSchema),
    scale: Type.Optional(Type.Number()),
    offset: Type.Optional(Type.Number()),
    unit: Type.Optional(Type.String()),
    /** arm_state only: raw value → canonical state. Unlisted values read as `unknown`. */
    states: Type.Optional(Type.Record(Type.String({ pattern: '^[0-9]+$' }), ArmStateSchema)),
    /** Raw value meaning "no valid reading" (e.g. 255 for an unknown position): the field is left out. */
    unknown: Type.Optional(Type.Integer()),
    /** Why this mapping is a guess the vendor's map does not settle; a device override confirms it. */
    unverified: Type.Optional(Type.String({ minLength: 1 })),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type FieldMap = Static<typeof FieldMapSchema>;

export const WriteSchema = Type.Object(
  {
    type: lit('coil', 'holding'),
    address: Address,
    values: Type.Array(Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Boolean()]), {
      minItems: 1,
    }),
    /** Append the command sequence number as the next register of this write. */
    sequence: Type.Optional(Type.Boolean()),
    /** Use fc15/fc16 even for one value (some controllers only accept those). */
    multiple: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type WriteStep = Static<typeof WriteSchema>;

export const CommandStepSchema = Type.Union([
  Type.Object({ write: WriteSchema }, { additionalProperties: false }),
  Type.Object({ waitMs: Type.Integer({ minimum: 0, maximum: 10_000 }) }, { additionalProperties: false }),
]);
export type CommandStep = Static<typeof CommandStepSchema>;

/** A profile may define any gate command of the contract. */
export const COMMANDS = BARRIER_ACTIONS;
const CommandSchema = Type.Object(
  { steps: Type.Array(CommandStepSchema, { minItems: 1 }), description: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export const ProfileSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }),
    vendor: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    /** Defaults for 32-bit values: `big` = high word first / high byte first. */
    wordOrder: Type.Optional(OrderSchema),
    byteOrder: Type.Optional(OrderSchema),
    fields: Type.Array(FieldMapSchema, { minItems: 1 }),
    /** Where the controller echoes the sequence number of the last accepted command. */
    sequence: Type.Optional(
      Type.Object(
        {
          echo: Type.Object(
            { type: lit('input', 'holding'), address: Address },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    commands: Type.Partial(
      Type.Object(Object.fromEntries(COMMANDS.map((c) => [c, CommandSchema])), {
        additionalProperties: false,
      }),
    ),
    /**
     * How the gateway brings a closing arm back up when a vehicle appears: `open`, or
     * `stop-then-open` for controllers that ignore an open while the motor runs down.
     * Absent: `open`. The commands named must be in `commands`.
     */
    reversal: Type.Optional(lit('open', 'stop-then-open')),
    /**
     * A conditional close ("close if clear"): the controller carries it out only while its
     * own loop and photo-eye are clear. When given, the gateway writes it instead of
     * `commands.close`, so the last check happens in the controller itself.
     */
    closeIfClear: Type.Optional(CommandSchema),
    faultCodes: Type.Optional(Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.String())),
    /** Signature by which a commissioning sweep recognises this controller (identify.ts). */
    identify: Type.Optional(IdentifySchema),
    /** Board id, firmware, serial number…: read once at connect (device-info.ts). */
    deviceInfo: Type.Optional(DeviceInfoSchema),
  },
  { additionalProperties: false },
);
export type Profile = Static<typeof ProfileSchema> & { source: string };
export type CommandName = (typeof COMMANDS)[number];
export type Command = Static<typeof CommandSchema>;

export function wordsOf(dataType: DataType | undefined): number {
  return dataType === 'u32' || dataType === 'i32' || dataType === 'f32' ? 2 : 1;
}

/** Rules a schema cannot say: a field's shape fits its register, no two writes collide. */
export function semanticProblems(p: Static<typeof ProfileSchema>): CheckProblem[] {
  const out: CheckProblem[] = [];
  const taken = new Map<string, string>();
  p.fields.forEach((f, i) => {
    const at = (k: string) => ['fields', i, k];
    const bitTable = f.type === 'coil' || f.type === 'discrete';
    const isBool = BOOLEAN_FIELDS.includes(f.field);
    if (bitTable && !isBool)
      out.push({ path: at('type'), message: `${f.field} is not a flag; map it to a register` });
    if (bitTable && f.dataType)
      out.push({ path: at('dataType'), message: 'coils and discrete inputs have no data type' });
    if (f.dataType === 'bitfield' && f.bit === undefined)
      out.push({ path: at('bit'), message: 'bitfield needs `bit`' });
    if (f.bit !== undefined && f.dataType !== 'bitfield')
      out.push({ path: at('bit'), message: '`bit` needs dataType bitfield' });
    if (f.dataType === 'bitfield' && !isBool)
      out.push({ path: at('dataType'), message: `${f.field} is not a flag` });
    if (f.field === 'arm_state' && !f.states)
      out.push({ path: at('states'), message: 'arm_state needs a `states` map' });
    if (f.states && f.field !== 'arm_state')
      out.push({ path: at('states'), message: 'only arm_state has states' });
    if (f.scale === 0) out.push({ path: at('scale'), message: 'scale must not be 0' });
    if (f.unknown !== undefined && (bitTable || f.dataType === 'bitfield' || f.states))
      out.push({ path: at('unknown'), message: '`unknown` is for numbers (a state map lists its codes)' });
    for (let w = 0; w < (bitTable ? 1 : wordsOf(f.dataType)); w++) {
      const key = `${f.type}:${f.address + w}${f.dataType === 'bitfield' ? `.${f.bit}` : ''}`;
      const prev = taken.get(key);
      if (prev)
        out.push({ path: at('address'), message: `${f.type} ${f.address + w} already feeds ${prev}` });
      taken.set(key, f.field);
    }
  });
  const fieldNames = p.fields.map((f) => f.field);
  fieldNames.forEach((n, i) => {
    if (fieldNames.indexOf(n) !== i)
      out.push({ path: ['fields', i, 'field'], message: `${n} is mapped twice` });
  });
  out.push(...sectionProblems(p));
  const triggers = new Map<string, string>();
  const written = Object.entries(p.commands);
  if (p.closeIfClear) written.push(['closeIfClear', p.closeIfClear]);
  for (const [name, cmd] of written) {
    if (!cmd) continue;
    const where = name === 'closeIfClear' ? ['closeIfClear', 'steps'] : ['commands', name, 'steps'];
    cmd.steps.forEach((s, i) => {
      if (!('write' in s)) return;
      const at = [...where, i, 'write'];
      const w = s.write;
      if (w.values.some((v) => typeof v !== (w.type === 'coil' ? 'boolean' : 'number'))) {
        out.push({
          path: [...at, 'values'],
          message: `${w.type} values must be ${w.type === 'coil' ? 'true/false' : 'integers'}`,
        });
      }
      if (w.sequence && w.type !== 'holding')
        out.push({ path: [...at, 'sequence'], message: 'sequence needs a holding write' });
      if (w.sequence && !p.sequence)
        out.push({ path: [...at, 'sequence'], message: 'profile has no `sequence.echo`' });
    });
    // The first write triggers the action at the controller; two commands must differ there.
    const first = cmd.steps.find((s) => 'write' in s);
    if (!first || !('write' in first)) {
      out.push({ path: where, message: 'a command needs at least one write' });
      continue;
    }
    const key = `${first.write.type}:${first.write.address}=${String(first.write.values[0])}`;
    const prev = triggers.get(key);
    if (prev) out.push({ path: where, message: `same first write as ${prev}` });
    triggers.set(key, name);
  }
  for (const needed of p.reversal ? reversalCommands(p) : []) {
    if (!p.commands[needed])
      out.push({ path: ['reversal'], message: `the reversal sends ${needed}, which \`commands\` lacks` });
  }
  return out;
}

/** The commands a reversal sends, in order. */
export function reversalCommands(p: Pick<Profile, 'reversal'>): CommandName[] {
  return p.reversal === 'stop-then-open' ? ['stop', 'open'] : ['open'];
}

/** Parse and validate profile text; `source` names the file in errors (DriverError profile-invalid). */
export function parseProfile(text: string, source: string): Profile {
  const data = parseYamlWithSchema(text, source, ProfileSchema, {
    errorKind: 'profile-invalid',
    check: semanticProblems,
  });
  return { ...data, source };
}

/** Load a profile by name (looked up in `dirs`) or by a path to a .yaml file. */
export function loadProfile(nameOrPath: string, dirs: string[] = [DEFAULT_PROFILE_DIR]): Profile {
  const isPath = /\.ya?ml$/.test(nameOrPath) || nameOrPath.includes('/');
  const candidates = isPath
    ? [path.resolve(nameOrPath)]
    : dirs.flatMap((d) => [path.join(d, `${nameOrPath}.yaml`), path.join(d, `${nameOrPath}.yml`)]);
  const file = candidates.find((f) => existsSync(f));
  if (!file)
    throw new DriverError(
      'profile-not-found',
      `no device profile named "${nameOrPath}" (looked in ${isPath ? candidates[0]! : dirs.join(', ')})`,
    );
  // A village loads the same profile for each of its devices (twice: check, then create):
  // parse each file once while it stays unchanged, and hand out the same read-only profile.
  const st = statSync(file);
  const hit = parsedProfiles.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.profile;
  const profile = parseProfile(readFileSync(file, 'utf8'), file);
  parsedProfiles.set(file, { mtimeMs: st.mtimeMs, size: st.size, profile });
  return profile;
}

/** Profiles parsed by loadProfile, by file, with the file's mtime and size when parsed. */
const parsedProfiles = new Map<string, { mtimeMs: number; size: number; profile: Profile }>();

export function listProfiles(dirs: string[] = [DEFAULT_PROFILE_DIR]): string[] {
  return dirs
    .filter((d) => existsSync(d))
    .flatMap((d) => readdirSync(d))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => f.replace(/\.ya?ml$/, ''))
    .sort();
}
