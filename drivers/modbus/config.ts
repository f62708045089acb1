import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DriverError } from '../contract/errors.ts';
import { fieldName, validate } from '../contract/schema-problems.ts';
import type { DriverContext } from '../contract/driver.ts';
import { ModbusBus } from './bus.ts';
import { ModbusBarrierDriver } from './driver.ts';
import { withOverrides, OverridesSchema } from './overrides.ts';
import { DEFAULT_PROFILE_DIR, loadProfile, type Profile } from './profile.ts';
import { RtuTransport, TcpTransport, type Transport } from './transport.ts';

const busCommon = {
  id: Type.String({ minLength: 1 }),
  timeoutMs: Type.Integer({ minimum: 20, maximum: 10_000, default: 300 }),
  retries: Type.Integer({ minimum: 0, maximum: 5, default: 1 }),
  retryBackoffMs: Type.Integer({ minimum: 0, maximum: 5000, default: 50 }),
  reconnectMs: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000 }),
};
const Baud = Type.Integer({
  minimum: 1200,
  maximum: 921600,
  default: 9600,
  description: 'serial line speed',
});
const Host = Type.String({
  minLength: 1,
  description: 'host name or address of the controller (tcp) or of the serial device server (rtu-over-tcp)',
});
const Port = Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port, e.g. 502' });

export const ModbusRtuBusSchema = Type.Object(
  {
    ...busCommon,
    type: Type.Literal('rtu'),
    path: Type.String({ minLength: 1, description: 'serial device, e.g. /dev/ttyUSB0' }),
    baud: Baud,
    parity: Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], {
      default: 'none',
    }),
    dataBits: Type.Union([Type.Literal(7), Type.Literal(8)], { default: 8 }),
    stopBits: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1 }),
  },
  { additionalProperties: false },
);

export const ModbusTcpBusSchema = Type.Object(
  { ...busCommon, type: Type.Literal('tcp'), host: Host, port: Port },
  { additionalProperties: false },
);

/** RTU frames through a serial device server; the line's speed still sets the wire time. */
export const ModbusRtuOverTcpBusSchema = Type.Object(
  { ...busCommon, type: Type.Literal('rtu-over-tcp'), host: Host, port: Port, baud: Baud },
  { additionalProperties: false },
);

/**
 * One Modbus bus in the village config: a serial line, a serial device server, or a
 * TCP endpoint. A union on `type`, so `check` refuses a tcp bus without a host.
 */
export const ModbusBusConfigSchema = Type.Union(
  [ModbusRtuBusSchema, ModbusTcpBusSchema, ModbusRtuOverTcpBusSchema],
  {
    description: 'a bus of type rtu, tcp or rtu-over-tcp',
  },
);
/** A bus as the schema leaves it: the fields of its type, defaults filled. */
export type ModbusBusSettings = Static<typeof ModbusBusConfigSchema>;
type Fields<T> = Omit<T, 'id' | 'type'>;
/** A bus as code writes one (tests, benchmarks): defaults may be left out; createBus checks it. */
export type ModbusBusConfig = Pick<ModbusBusSettings, 'id' | 'type'> &
  Partial<
    Fields<Static<typeof ModbusRtuBusSchema>> &
      Fields<Static<typeof ModbusTcpBusSchema>> &
      Fields<Static<typeof ModbusRtuOverTcpBusSchema>>
  >;

/** Per-device options of a Modbus barrier. */
export const ModbusDeviceOptionsSchema = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    bus: Type.String({ minLength: 1, description: 'id of a modbus bus' }),
    unit: Type.Integer({ minimum: 0, maximum: 247 }),
    profile: Type.String({ minLength: 1, description: 'profile name or path to a .yaml file' }),
    pollMs: Type.Optional(Type.Integer({ minimum: 50, default: 1000 })),
    backoffMs: Type.Integer({
      minimum: 50,
      default: 1000,
      description: 'first wait after a unit stops answering; doubles per failure',
    }),
    backoffMaxMs: Type.Integer({ minimum: 50, default: 8000, description: 'longest wait between tries' }),
    overrides: Type.Optional(OverridesSchema),
  },
  { additionalProperties: false },
);
export type ModbusDeviceOptions = Static<typeof ModbusDeviceOptionsSchema>;
/** Device options as code writes them: what has a schema default may be left out. */
export type ModbusDeviceInput = Omit<ModbusDeviceOptions, 'backoffMs' | 'backoffMaxMs'> &
  Partial<Pick<ModbusDeviceOptions, 'backoffMs' | 'backoffMaxMs'>>;

/** Check a bus against the schema and fill its defaults; a config loaded from YAML passes unchanged. */
export function resolveModbusBus(b: ModbusBusConfig): ModbusBusSettings {
  const { value, problems } = validate(ModbusBusConfigSchema, b);
  if (problems.length > 0) {
    const what = problems.map((p) => `${fieldName(p.path) || 'bus'}: ${p.message}`).join('; ');
    throw new DriverError('invalid-config', `modbus bus "${b.id}": ${what}`);
  }
  return value as ModbusBusSettings;
}

export function createTransport(b: ModbusBusSettings): Transport {
  switch (b.type) {
    case 'tcp':
      return new TcpTransport(b.host, b.port);
    case 'rtu-over-tcp':
      return new RtuTransport({ kind: 'tcp', host: b.host, port: b.port, baud: b.baud });
    case 'rtu':
      return new RtuTransport({
        kind: 'serial',
        path: b.path,
        baud: b.baud,
        parity: b.parity,
        dataBits: b.dataBits,
        stopBits: b.stopBits,
      });
  }
}

/** A device's profile as it runs on that device: loaded by name or path, its overrides applied. */
export function profileFor(
  device: Pick<ModbusDeviceOptions, 'id' | 'profile' | 'overrides'>,
  dirs: string[] = [DEFAULT_PROFILE_DIR],
): Profile {
  return withOverrides(loadProfile(device.profile, dirs), device.overrides, device.id);
}

export function createBus(config: ModbusBusConfig, ctx: Pick<DriverContext, 'log'>): ModbusBus {
  const b = resolveModbusBus(config);
  const { timeoutMs, retries, retryBackoffMs, reconnectMs } = b;
  return new ModbusBus(
    b.id,
    createTransport(b),
    { timeoutMs, retries, retryBackoffMs, reconnectMs },
    ctx.log,
  );
}

export interface ModbusDrivers {
  drivers: ModbusBarrierDriver[];
  buses: Map<string, ModbusBus>;
  /** Close every bus (drivers share them). */
  close(): Promise<void>;
}

/**
 * Build a driver per device and one bus per bus config they use. Profiles are looked
 * up by name in `profileDirs` (default: drivers/modbus/profiles) or loaded by path.
 * Throws DriverError (invalid-config, profile-invalid, profile-not-found) on bad config.
 */
export function createModbusDrivers(
  buses: ModbusBusConfig[],
  devices: ModbusDeviceInput[],
  ctx: DriverContext,
  opts: { profileDirs?: string[] } = {},
): ModbusDrivers {
  const byId = new Map(buses.map((b) => [b.id, b]));
  const live = new Map<string, ModbusBus>();
  const profiles = new Map<string, Profile>();
  const drivers = devices.map((options) => {
    const d = Value.Default(ModbusDeviceOptionsSchema, structuredClone(options)) as ModbusDeviceOptions;
    const cfg = byId.get(d.bus);
    if (!cfg) throw new DriverError('invalid-config', `device "${d.id}": no modbus bus "${d.bus}"`);
    let bus = live.get(d.bus);
    if (!bus) live.set(d.bus, (bus = createBus(cfg, ctx)));
    let profile = profiles.get(d.profile);
    if (!profile)
      profiles.set(d.profile, (profile = loadProfile(d.profile, opts.profileDirs ?? [DEFAULT_PROFILE_DIR])));
    profile = withOverrides(profile, d.overrides, d.id);
    return new ModbusBarrierDriver(d.id, bus, d.unit, profile, ctx, {
      backoffMs: d.backoffMs,
      backoffMaxMs: d.backoffMaxMs,
    });
  });
  return {
    drivers,
    buses: live,
    close: async () => {
      await Promise.all([...live.values()].map((b) => b.close()));
    },
  };
}
