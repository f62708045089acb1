import { Type, type Static } from '@sinclair/typebox';

/**
 * The parts of a barrier profile that are not a canonical field: how a commissioning
 * sweep recognises the controller (`identify`) and what it says about itself
 * (`deviceInfo`). A leaf module, so that profile.ts (which embeds these schemas) and
 * identify.ts / device-info.ts (which interpret them) do not import each other.
 */
const lit = <T extends string>(...xs: T[]) => Type.Union(xs.map((x) => Type.Literal(x)));
const Address = Type.Integer({ minimum: 0, maximum: 65535 });

export const RegisterTypeSchema = lit('coil', 'discrete', 'input', 'holding');

/** One accepted raw value, or an inclusive range `[low, high]`. */
const Accepted = Type.Union([
  Type.Integer({ minimum: 0, maximum: 65535 }),
  Type.Tuple([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Integer({ minimum: 0, maximum: 65535 })]),
]);

/**
 * One signature check: the unit must answer this read (an exception fails it), and
 * every value read must be `in` the accepted values and, with `ascii`, be printable
 * ASCII or NUL padding. Checks run in order; the first that fails ends the match.
 */
export const IdentifyCheckSchema = Type.Object(
  {
    type: RegisterTypeSchema,
    address: Address,
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 125 })),
    in: Type.Optional(Type.Array(Accepted, { minItems: 1 })),
    ascii: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type IdentifyCheck = Static<typeof IdentifyCheckSchema>;
export const IdentifySchema = Type.Array(IdentifyCheckSchema, { minItems: 1 });

/**
 * One piece of device information, read once when the gateway connects: `ascii` (two
 * characters per register, high byte first unless `byteOrder: little`; NUL and space
 * padding trimmed), `decimal` or `hex` (each register as a number, several joined by
 * `join`, default ".").
 */
export const DeviceInfoItemSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_]*$' }),
    type: lit('input', 'holding'),
    address: Address,
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 125 })),
    format: lit('ascii', 'decimal', 'hex'),
    join: Type.Optional(Type.String({ maxLength: 4 })),
    byteOrder: Type.Optional(lit('big', 'little')),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type DeviceInfoItem = Static<typeof DeviceInfoItemSchema>;
export const DeviceInfoSchema = Type.Array(DeviceInfoItemSchema, { minItems: 1 });

export const countOf = (x: { count?: number | undefined }): number => x.count ?? 1;

/** Rules the schema cannot say about these sections, as profile.ts reports them. */
export function sectionProblems(p: {
  identify?: IdentifyCheck[] | undefined;
  deviceInfo?: DeviceInfoItem[] | undefined;
}): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  (p.identify ?? []).forEach((c, i) => {
    const bits = c.type === 'coil' || c.type === 'discrete';
    if (c.ascii && bits) out.push({ path: ['identify', i, 'ascii'], message: 'bits hold no characters' });
    (c.in ?? []).forEach((v, j) => {
      const [lo, hi] = typeof v === 'number' ? [v, v] : v;
      if (lo > hi) out.push({ path: ['identify', i, 'in', j], message: 'a range is [low, high]' });
      if (bits && hi > 1) out.push({ path: ['identify', i, 'in', j], message: 'a bit is 0 or 1' });
    });
  });
  const names = (p.deviceInfo ?? []).map((d) => d.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i)
      out.push({ path: ['deviceInfo', i, 'name'], message: `${n} is listed twice` });
  });
  return out;
}
