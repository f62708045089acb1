import { Type, type Static } from '@sinclair/typebox';
import { DriverError } from '../contract/errors.ts';
import type { DriverContext } from '../contract/driver.ts';
import { ModbusBus } from './bus.ts';
import { ModbusBarrierDriver } from './driver.ts';
import { DEFAULT_PROFILE_DIR, loadProfile, type Profile } from './profile.ts';
import { RtuTransport, TcpTransport, type Transport } from './transport.ts';

/** One Modbus bus in the village config: a serial line, a serial device server, or a TCP endpoint. */
export const ModbusBusConfigSchema = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    type: Type.Union([Type.Literal('rtu'), Type.Literal('tcp'), Type.Literal('rtu-over-tcp')]),
    path: Type.Optional(Type.String({ description: 'serial device (rtu)' })),
    baud: Type.Optional(Type.Integer({ minimum: 1200, maximum: 921600, default: 9600 })),
    parity: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')])),
    dataBits: Type.Optional(Type.Union([Type.Literal(7), Type.Literal(8)])),
    stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)])),
    host: Type.Optional(Type.String({ description: 'tcp and rtu-over-tcp' })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 20, maximum: 10_000, default: 300 })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5, default: 1 })),
    retryBackoffMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000, default: 50 })),
    reconnectMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000, default: 1000 })),
  },
  { additionalProperties: false },
);
export type ModbusBusConfig = Static<typeof ModbusBusConfigSchema>;

/** Per-device options of a Modbus barrier. */
export const ModbusDeviceOptionsSchema = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    bus: Type.String({ minLength: 1, description: 'id of a modbus bus' }),
    unit: Type.Integer({ minimum: 0, maximum: 247 }),
    profile: Type.String({ minLength: 1, description: 'profile name or path to a .yaml file' }),
    pollMs: Type.Optional(Type.Integer({ minimum: 50, default: 1000 })),
    backoffMs: Type.Optional(Type.Integer({ minimum: 50, default: 1000 })),
    backoffMaxMs: Type.Optional(Type.Integer({ minimum: 50, default: 8000 })),
  },
  { additionalProperties: false },
);
export type ModbusDeviceOptions = Static<typeof ModbusDeviceOptionsSchema>;

function need<T>(v: T | undefined, bus: string, field: string): T {
  if (v === undefined) throw new DriverError('invalid-config', `modbus bus "${bus}": ${field} is required`);
  return v;
}

export function createTransport(b: ModbusBusConfig): Transport {
  const baud = b.baud ?? 9600;
  if (b.type === 'tcp') return new TcpTransport(need(b.host, b.id, 'host'), need(b.port, b.id, 'port'));
  if (b.type === 'rtu-over-tcp') {
    return new RtuTransport({
      kind: 'tcp',
      host: need(b.host, b.id, 'host'),
      port: need(b.port, b.id, 'port'),
      baud,
    });
  }
  return new RtuTransport({
    kind: 'serial',
    path: need(b.path, b.id, 'path'),
    baud,
    parity: b.parity ?? 'none',
    dataBits: b.dataBits ?? 8,
    stopBits: b.stopBits ?? 1,
  });
}

export function createBus(b: ModbusBusConfig, ctx: Pick<DriverContext, 'log'>): ModbusBus {
  return new ModbusBus(
    b.id,
    createTransport(b),
    {
      timeoutMs: b.timeoutMs ?? 300,
      retries: b.retries ?? 1,
      retryBackoffMs: b.retryBackoffMs ?? 50,
      reconnectMs: b.reconnectMs ?? 1000,
    },
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
  devices: ModbusDeviceOptions[],
  ctx: DriverContext,
  opts: { profileDirs?: string[] } = {},
): ModbusDrivers {
  const byId = new Map(buses.map((b) => [b.id, b]));
  const live = new Map<string, ModbusBus>();
  const profiles = new Map<string, Profile>();
  const drivers = devices.map((d) => {
    const cfg = byId.get(d.bus);
    if (!cfg) throw new DriverError('invalid-config', `device "${d.id}": no modbus bus "${d.bus}"`);
    let bus = live.get(d.bus);
    if (!bus) live.set(d.bus, (bus = createBus(cfg, ctx)));
    let profile = profiles.get(d.profile);
    if (!profile)
      profiles.set(d.profile, (profile = loadProfile(d.profile, opts.profileDirs ?? [DEFAULT_PROFILE_DIR])));
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
