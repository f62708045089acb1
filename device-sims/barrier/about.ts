/**
 * What a simulated controller says about itself (the profile's `deviceInfo`: board id,
 * firmware, serial number) and the registers a master's identification reads
 * (`identify`), read from the profile by the simulator itself (docs/profiles.md).
 * Registers of an identify range that no field feeds exist and read 0, as unused
 * registers of a real status block do.
 */
export interface InfoSpec {
  name: string;
  type: 'input' | 'holding';
  address: number;
  count?: number;
  format: 'ascii' | 'decimal' | 'hex';
  join?: string;
  byteOrder?: 'big' | 'little';
}

export interface IdentifySpec {
  type: 'coil' | 'discrete' | 'input' | 'holding';
  address: number;
  count?: number;
  in?: (number | [number, number])[];
  ascii?: boolean;
}

const fail = (where: string, msg: string): never => {
  throw new Error(`profile ${where}: ${msg}`);
};

function mapping(v: unknown, where: string, allowed: string[]): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(where, 'must be a mapping');
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length) fail(where, `unknown key ${extra.join(', ')}`);
  return o;
}

function int(v: unknown, where: string, min: number, max: number): number {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max
    ? (v as number)
    : fail(where, `must be an integer ${min}..${max}`);
}

function oneOf<T extends string>(v: unknown, where: string, xs: readonly T[]): T {
  return xs.includes(v as T) ? (v as T) : fail(where, `must be one of ${xs.join(', ')}`);
}

function list(v: unknown, where: string): unknown[] {
  return Array.isArray(v) && v.length > 0 ? v : fail(where, 'must be a non-empty list');
}

export function readInfoSpecs(raw: unknown, where: string): InfoSpec[] {
  const specs = list(raw, where).map((item, i): InfoSpec => {
    const at = `${where}.${i}`;
    const o = mapping(item, at, [
      ...['name', 'type', 'address', 'count', 'format', 'join', 'byteOrder', 'description'],
    ]);
    if (typeof o.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(o.name)) fail(`${at}.name`, 'must be a name');
    const s: InfoSpec = {
      name: o.name as string,
      type: oneOf(o.type, `${at}.type`, ['input', 'holding'] as const),
      address: int(o.address, `${at}.address`, 0, 65535),
      format: oneOf(o.format, `${at}.format`, ['ascii', 'decimal', 'hex'] as const),
    };
    if (o.count !== undefined) s.count = int(o.count, `${at}.count`, 1, 125);
    if (o.join !== undefined)
      s.join = typeof o.join === 'string' ? o.join : fail(`${at}.join`, 'must be text');
    if (o.byteOrder !== undefined)
      s.byteOrder = oneOf(o.byteOrder, `${at}.byteOrder`, ['big', 'little'] as const);
    return s;
  });
  specs.forEach((s, i) => {
    if (specs.findIndex((x) => x.name === s.name) !== i)
      fail(`${where}.${i}.name`, `${s.name} is listed twice`);
  });
  return specs;
}

export function readIdentifySpecs(raw: unknown, where: string): IdentifySpec[] {
  return list(raw, where).map((item, i): IdentifySpec => {
    const at = `${where}.${i}`;
    const o = mapping(item, at, ['type', 'address', 'count', 'in', 'ascii', 'description']);
    const s: IdentifySpec = {
      type: oneOf(o.type, `${at}.type`, ['coil', 'discrete', 'input', 'holding'] as const),
      address: int(o.address, `${at}.address`, 0, 65535),
    };
    if (o.count !== undefined) s.count = int(o.count, `${at}.count`, 1, 125);
    if (o.in !== undefined)
      s.in = list(o.in, `${at}.in`).map((v, j) =>
        Array.isArray(v) && v.length === 2
          ? [int(v[0], `${at}.in.${j}`, 0, 65535), int(v[1], `${at}.in.${j}`, 0, 65535)]
          : int(v, `${at}.in.${j}`, 0, 65535),
      );
    if (o.ascii !== undefined) s.ascii = o.ascii === true ? true : fail(`${at}.ascii`, 'must be true');
    return s;
  });
}

/** The words a controller holds for one piece of device information given as text. */
export function infoWords(spec: InfoSpec, text: string): number[] {
  const n = spec.count ?? 1;
  if (spec.format === 'ascii') {
    const bytes = Array.from({ length: n * 2 }, (_, i) => text.charCodeAt(i) || 0);
    return Array.from({ length: n }, (_, i) => {
      const [a, b] = [bytes[2 * i]! & 0x7f, bytes[2 * i + 1]! & 0x7f];
      return spec.byteOrder === 'little' ? (b << 8) | a : (a << 8) | b;
    });
  }
  const parts = text.split(spec.join ?? '.');
  return Array.from({ length: n }, (_, i) => {
    const p = parts[i] ?? '0';
    const v = spec.format === 'hex' ? parseInt(p.replace(/^0x/i, ''), 16) : Number(p);
    return Number.isInteger(v) ? v & 0xffff : 0;
  });
}

/** What an unconfigured simulated unit reports: different per unit, so a test can tell who answered. */
export function defaultInfo(spec: InfoSpec, unit: number): string {
  const n = spec.count ?? 1;
  if (spec.format === 'ascii') return `SIM${String(unit).padStart(n * 2 - 3, '0')}`.slice(0, n * 2);
  const words = Array.from({ length: n }, (_, i) => (i === n - 1 ? unit : i === 0 ? 1 : 0));
  return spec.format === 'hex'
    ? words
        .map((w, i) => `0x${(i === n - 1 ? 0x0100 | w : w).toString(16).padStart(4, '0')}`)
        .join(spec.join ?? '.')
    : words.join(spec.join ?? '.');
}
