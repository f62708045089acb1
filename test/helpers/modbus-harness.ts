/**
 * Shared bits of the Modbus integration tests (not a test file itself): start a barrier
 * simulator process, drive its control interface, build drivers against it.
 */
import pino from 'pino';
import type { ArmState, BarrierFields, DeviceEvent } from '../../drivers/contract/canonical.ts';
import type { ReadResult } from '../../drivers/contract/driver.ts';
import type { DriverContext } from '../../drivers/contract/driver.ts';
import {
  createModbusDrivers,
  type ModbusBusConfig,
  type ModbusDrivers,
} from '../../drivers/modbus/config.ts';
import { startTs, type Proc } from './procs.ts';

export interface SimHandle {
  proc: Proc;
  tcpPort?: number;
  rtuTcpPort?: number;
  control: string;
  state(): Promise<{ units: Record<string, Record<string, unknown>> }>;
  post(path: '/fault' | '/traffic', body: Record<string, unknown>): Promise<void>;
  stop(): Promise<unknown>;
}

export async function startSim(args: string[]): Promise<SimHandle> {
  const proc = startTs('device-sims/main.ts', ['barrier', '--control', '127.0.0.1:0', ...args]);
  const line = await proc.waitFor(/listening/, 30_000);
  const port = (key: string) => {
    const m = new RegExp(`${key}=[^ ]*:(\\d+)`).exec(line);
    return m ? Number(m[1]) : undefined;
  };
  const control = /control=(\S+)/.exec(line)![1]!;
  return {
    proc,
    tcpPort: port(' tcp'),
    rtuTcpPort: port('rtu-tcp'),
    control,
    state: async () =>
      (await (await fetch(`${control}/state`)).json()) as { units: Record<string, Record<string, unknown>> },
    post: async (path, body) => {
      const res = await fetch(`${control}${path}`, { method: 'POST', body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    },
    stop: () => proc.stop(),
  };
}

export function testContext(events: DeviceEvent[] = []): DriverContext {
  return { log: pino({ level: 'silent' }), emit: (e) => events.push(e), dataDir: '/tmp' };
}

/** Drivers for `units` (with one profile) on one bus. */
export function driversOn(
  bus: Omit<ModbusBusConfig, 'id'>,
  units: number[],
  profile: string,
  extra: { backoffMs?: number; backoffMaxMs?: number } = {},
): ModbusDrivers {
  return createModbusDrivers(
    [{ id: 'bus1', ...bus }],
    units.map((unit) => ({ id: `barrier-${unit}`, bus: 'bus1', unit, profile, ...extra })),
    testContext(),
  );
}

/** Read until `pred` holds, returning the reading; reads that throw count as "not yet". */
export async function readUntil<T>(
  read: () => Promise<T>,
  pred: (r: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const r = await read();
      last = r;
      if (pred(r)) return r;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `condition not met in ${timeoutMs} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Read a barrier until its arm reports `state`. */
export function armReaches(
  drv: { read(o?: { urgent?: boolean }): Promise<ReadResult> },
  state: ArmState,
  opts: { urgent?: boolean } = {},
): Promise<ReadResult> {
  return readUntil(
    () => drv.read(opts),
    (r) => (r.fields as BarrierFields).arm_state === state,
  );
}
