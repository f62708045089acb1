import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ARM_STATES, COMMANDS, FIELD_NAMES, isFlagField, type ArmState, type CommandName } from './fields.ts';
import type { FieldName } from './fields.ts';
import { readIdentifySpecs, readInfoSpecs, type IdentifySpec, type InfoSpec } from './about.ts';

/**
 * The simulator's reading of a barrier profile (docs/profiles.md). Profiles are data
 * the driver and the simulator share; each side reads the YAML itself, so a mistake in
 * one reader cannot hide in both. Only what a controller needs to lay out its
 * registers and recognise commands is interpreted; names and descriptions are skipped.
 */
export const PROFILE_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../drivers/modbus/profiles',
);

export type Table = 'coil' | 'discrete' | 'input' | 'holding';
export type DataType = 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'bitfield';
export type Order = 'big' | 'little';

export interface FieldSpec {
  field: FieldName;
  type: Table;
  address: number;
  dataType?: DataType;
  bit?: number;
  wordOrder?: Order;
  byteOrder?: Order;
  scale?: number;
  offset?: number;
  states?: Record<string, ArmState>;
  /** The raw code the controller reports when it has no valid reading (e.g. 255: position unknown). */
  unknown?: number;
  /** Why the mapping is a guess (kept for the driver's warning; the controller lays it out all the same). */
  unverified?: string;
}

export interface WriteSpec {
  type: 'coil' | 'holding';
  address: number;
  values: (number | boolean)[];
  /** The command's sequence number follows the values, in the next holding register. */
  sequence?: boolean;
}
export type Step = { write: WriteSpec } | { waitMs: number };

export interface SimProfile {
  name: string;
  wordOrder?: Order;
  byteOrder?: Order;
  fields: FieldSpec[];
  sequence?: { echo: { type: 'input' | 'holding'; address: number } };
  commands: Partial<Record<CommandName, { steps: Step[] }>>;
  /** A conditional close: carried out only while the loop and the photo-eye are clear. */
  closeIfClear?: { steps: Step[] };
  /** How a master reverses a closing arm; the controller just sees those commands arrive. */
  reversal?: 'open' | 'stop-then-open';
  identify?: IdentifySpec[];
  deviceInfo?: InfoSpec[];
}

const TABLES = ['coil', 'discrete', 'input', 'holding'] as const;
const DATA_TYPES = ['u16', 'i16', 'u32', 'i32', 'f32', 'bitfield'] as const;
const ORDERS = ['big', 'little'] as const;

/** Registers a field's value takes: 32-bit types span two. */
export const registersOf = (f: Pick<FieldSpec, 'type' | 'dataType'>): number =>
  f.type === 'coil' || f.type === 'discrete' ? 1 : ['u32', 'i32', 'f32'].includes(f.dataType ?? '') ? 2 : 1;

class ProfileError extends Error {}

/** A tiny checker: each accessor names the spot in the file when the value is wrong. */
function at(where: string, v: unknown) {
  const fail = (msg: string): never => {
    throw new ProfileError(`${where}: ${msg}`);
  };
  const o = () => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  return {
    fail,
    object(allowed: string[]) {
      if (!v || typeof v !== 'object' || Array.isArray(v)) fail('must be a mapping');
      const extra = Object.keys(o()).filter((k) => !allowed.includes(k));
      if (extra.length) fail(`unknown key ${extra.join(', ')}`);
      return o();
    },
    oneOf<T extends string>(xs: readonly T[]): T {
      return xs.includes(v as T) ? (v as T) : fail(`must be one of ${xs.join(', ')}`);
    },
    int(min: number, max: number): number {
      return Number.isInteger(v) && (v as number) >= min && (v as number) <= max
        ? (v as number)
        : fail(`must be an integer ${min}..${max}`);
    },
    list(): unknown[] {
      return Array.isArray(v) && v.length > 0 ? v : fail('must be a non-empty list');
    },
  };
}

function readField(raw: unknown, where: string): FieldSpec {
  const o = at(where, raw).object([
    ...['field', 'type', 'address', 'dataType', 'bit', 'wordOrder', 'byteOrder'],
    ...['scale', 'offset', 'states', 'unit', 'description', 'unknown', 'unverified'],
  ]);
  const get = (k: string) => at(`${where}.${k}`, o[k]);
  const f: FieldSpec = {
    field: get('field').oneOf(FIELD_NAMES),
    type: get('type').oneOf(TABLES),
    address: get('address').int(0, 65535),
  };
  const bitTable = f.type === 'coil' || f.type === 'discrete';
  if (bitTable && !isFlagField(f.field))
    get('type').fail(`${f.field} is not an on/off input; map it to a register`);
  if (o.dataType !== undefined) {
    if (bitTable) get('dataType').fail('coils and discrete inputs carry single bits');
    f.dataType = get('dataType').oneOf(DATA_TYPES);
  }
  if (f.dataType === 'bitfield') {
    if (!isFlagField(f.field)) get('dataType').fail(`${f.field} is not an on/off input`);
    f.bit = get('bit').int(0, 15);
  } else if (o.bit !== undefined) get('bit').fail('only a bitfield has a bit');
  for (const k of ['wordOrder', 'byteOrder'] as const) if (o[k] !== undefined) f[k] = get(k).oneOf(ORDERS);
  for (const k of ['scale', 'offset'] as const) {
    if (o[k] === undefined) continue;
    const n = o[k];
    if (typeof n !== 'number' || !Number.isFinite(n) || (k === 'scale' && n === 0))
      get(k).fail(k === 'scale' ? 'must be a non-zero number' : 'must be a number');
    f[k] = n as number;
  }
  if (f.field === 'arm_state') {
    const states = get('states').object(Object.keys(o.states ?? {}));
    f.states = {};
    for (const [k, s] of Object.entries(states)) {
      if (!/^\d+$/.test(k)) get('states').fail(`key "${k}" is not a register value`);
      f.states[k] = at(`${where}.states.${k}`, s).oneOf(ARM_STATES);
    }
  } else if (o.states !== undefined) get('states').fail('only arm_state has states');
  if (o.unknown !== undefined) {
    if (bitTable || f.dataType === 'bitfield' || f.states)
      get('unknown').fail('only a number has a no-reading code');
    f.unknown = get('unknown').int(-0x80000000, 0xffffffff);
  }
  if (o.unverified !== undefined) {
    if (typeof o.unverified !== 'string' || !o.unverified) get('unverified').fail('must be a sentence');
    f.unverified = o.unverified as string;
  }
  return f;
}

function readWrite(raw: unknown, where: string, hasEcho: boolean): WriteSpec {
  const o = at(where, raw).object(['type', 'address', 'values', 'sequence', 'multiple']);
  const type = at(`${where}.type`, o.type).oneOf(['coil', 'holding'] as const);
  const values = at(`${where}.values`, o.values)
    .list()
    .map((v, i) => {
      const here = at(`${where}.values.${i}`, v);
      if (type === 'holding') return here.int(0, 65535);
      return typeof v === 'boolean' ? v : here.fail('coil values are true/false');
    });
  const w: WriteSpec = { type, address: at(`${where}.address`, o.address).int(0, 65535), values };
  if (o.sequence === true) {
    if (type !== 'holding' || !hasEcho)
      at(`${where}.sequence`, o.sequence).fail('a sequence number needs a holding write and sequence.echo');
    w.sequence = true;
  }
  return w;
}

/** Two fields in one register would overwrite each other, unless they are different bits of a status word. */
function checkOverlaps(p: SimProfile, source: string): void {
  const owner = new Map<string, { f: FieldSpec; i: number }>();
  p.fields.forEach((f, i) => {
    for (let r = 0; r < registersOf(f); r++) {
      const key = `${f.type}:${f.address + r}`;
      const prev = owner.get(key);
      const byteOrder = (x: FieldSpec) => x.byteOrder ?? p.byteOrder ?? 'big';
      const bits = prev && prev.f.dataType === 'bitfield' && f.dataType === 'bitfield';
      if (prev && !(bits && prev.f.bit !== f.bit && byteOrder(prev.f) === byteOrder(f)))
        throw new ProfileError(`${source}: fields.${i}: ${key} is already taken by ${prev.f.field}`);
      owner.set(key, { f, i });
    }
  });
}

/** Interpret profile text; errors name the file and the offending key. */
export function readProfile(text: string, source: string): SimProfile {
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw new Error(`${source}: YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    const top = at(source, data).object([
      ...['name', 'vendor', 'description', 'wordOrder', 'byteOrder'],
      ...['fields', 'sequence', 'commands', 'faultCodes'],
      ...['reversal', 'closeIfClear'],
      ...['identify', 'deviceInfo'],
    ]);
    if (typeof top.name !== 'string' || !top.name) at(`${source}: name`, top.name).fail('must be a name');
    const p: SimProfile = {
      name: top.name as string,
      fields: at(`${source}: fields`, top.fields)
        .list()
        .map((f, i) => readField(f, `${source}: fields.${i}`)),
      commands: {},
    };
    for (const k of ['wordOrder', 'byteOrder'] as const)
      if (top[k] !== undefined) p[k] = at(`${source}: ${k}`, top[k]).oneOf(ORDERS);
    if (top.sequence !== undefined) {
      const echo = at(`${source}: sequence`, top.sequence).object(['echo']).echo;
      const e = at(`${source}: sequence.echo`, echo).object(['type', 'address']);
      p.sequence = {
        echo: {
          type: at(`${source}: sequence.echo.type`, e.type).oneOf(['input', 'holding'] as const),
          address: at(`${source}: sequence.echo.address`, e.address).int(0, 65535),
        },
      };
    }
    const cmds =
      top.commands === undefined ? {} : at(`${source}: commands`, top.commands).object([...COMMANDS]);
    const readCommand = (c: unknown, where: string) => {
      const steps = at(`${where}.steps`, at(where, c).object(['steps', 'description']).steps)
        .list()
        .map((s, i): Step => {
          const o = at(`${where}.steps.${i}`, s).object(['write', 'waitMs']);
          if (o.write !== undefined)
            return { write: readWrite(o.write, `${where}.steps.${i}.write`, !!p.sequence) };
          return { waitMs: at(`${where}.steps.${i}.waitMs`, o.waitMs).int(0, 60_000) };
        });
      if (!steps.some((s) => 'write' in s)) at(where, c).fail('a command needs at least one write');
      return { steps };
    };
    for (const [name, c] of Object.entries(cmds) as [CommandName, unknown][])
      p.commands[name] = readCommand(c, `${source}: commands.${name}`);
    if (top.reversal !== undefined)
      p.reversal = at(`${source}: reversal`, top.reversal).oneOf(['open', 'stop-then-open'] as const);
    if (top.closeIfClear !== undefined)
      p.closeIfClear = readCommand(top.closeIfClear, `${source}: closeIfClear`);
    if (top.identify !== undefined) p.identify = readIdentifySpecs(top.identify, `${source}: identify`);
    if (top.deviceInfo !== undefined) p.deviceInfo = readInfoSpecs(top.deviceInfo, `${source}: deviceInfo`);
    checkOverlaps(p, source);
    return p;
  } catch (err) {
    if (err instanceof ProfileError) throw new Error(`profile ${err.message}`);
    throw err;
  }
}

/** A profile by name (from the shared profiles folder) or by path to a .yaml file. */
export function loadProfile(nameOrPath: string, dir = PROFILE_DIR): SimProfile {
  const byPath = nameOrPath.includes('/') || /\.ya?ml$/.test(nameOrPath);
  const tries = byPath
    ? [path.resolve(nameOrPath)]
    : ['.yaml', '.yml'].map((ext) => path.join(dir, nameOrPath + ext));
  const file = tries.find((f) => existsSync(f));
  if (!file) throw new Error(`no barrier profile "${nameOrPath}" (looked for ${tries.join(', ')})`);
  return readProfile(readFileSync(file, 'utf8'), file);
}

export function listProfiles(dir = PROFILE_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => f.replace(/\.ya?ml$/, ''))
    .sort();
}
