import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarrierFields } from '../../drivers/contract/canonical.ts';
import { DeviceError } from '../../drivers/contract/errors.ts';
import type { ModbusDrivers } from '../../drivers/modbus/config.ts';
import { DEFAULT_PROFILE_DIR } from '../../drivers/modbus/profile.ts';
import { freePort } from '../helpers/procs.ts';
import { driversOn, readUntil, startSim, type SimHandle } from '../helpers/modbus-harness.ts';

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof DeviceError ? err.reason : `not a DeviceError: ${String(err)}`;
  }
}

// RTU framing over TCP carries a CRC, so every fault mode shows on one link.
describe('fault injection → health reasons → recovery (RTU over TCP)', () => {
  let sim: SimHandle;
  let d: ModbusDrivers;
  const drv = () => d.drivers[0]!;
  beforeAll(async () => {
    sim = await startSim([
      '--rtu-tcp',
      '127.0.0.1:0',
      '--baud',
      '115200',
      '--open-ms',
      '500',
      '--close-ms',
      '500',
    ]);
    d = driversOn(
      { type: 'rtu-over-tcp', host: '127.0.0.1', port: sim.rtuTcpPort, baud: 115200, timeoutMs: 250 },
      [1],
      'northgate-hr',
      {
        backoffMs: 100,
        backoffMaxMs: 400,
      },
    );
  });
  afterAll(async () => {
    await d?.close();
    await sim?.stop();
  });

  const fault = (f: string, active: boolean, extra: Record<string, unknown> = {}) =>
    sim.post('/fault', { unit: 1, fault: f, active, ...extra });

  for (const [f, code] of [
    ['motor-overcurrent', 1],
    ['encoder-fault', 2],
    ['arm-knocked-off', 3],
  ] as const) {
    it(`${f} → degraded barrier-fault:${code}, cleared by reset-fault`, async () => {
      await drv().read();
      await fault(f, true);
      const r = await drv().read();
      expect(r.health).toMatchObject({ status: 'degraded', reason: `barrier-fault:${code}` });
      expect(r.events?.map((e) => e.type)).toContain('fault');
      // The controller refuses to reset while the condition persists: no sequence echo.
      await expect(drv().execute({ action: 'reset-fault' })).rejects.toThrow(/did not accept/);
      await fault(f, false);
      await drv().execute({ action: 'reset-fault' });
      const back = await drv().read();
      expect(back.health?.status).toBe('online');
      expect(back.events?.map((e) => e.type)).toContain('fault-cleared');
    });
  }

  for (const [f, reason, extra] of [
    ['power-loss', 'timeout', {}],
    ['crc-corruption', 'crc-error', {}],
    ['wrong-unit', 'bad-response', {}],
    // Last: its late answers are still on their way after the fault clears (RTU has no
    // transaction id to tell them apart from fresh ones).
    ['slow-response', 'timeout', { delayMs: 800 }],
  ] as const) {
    it(`${f} → ${reason}, then recovers`, async () => {
      await fault(f, true, extra);
      try {
        expect(await reasonOf(drv().read({ urgent: true }))).toBe(reason);
        expect(drv().health()?.reason).toBe(reason);
      } finally {
        await fault(f, false);
      }
      const r = await readUntil(
        () => drv().read(),
        (x) => x.health?.status === 'online',
        10_000,
      );
      expect((r.fields as BarrierFields).arm_state).toBeDefined();
      expect(drv().health()?.status).toBe('online');
    });
  }

  it('a register the controller does not have → illegal-address', async () => {
    await new Promise((r) => setTimeout(r, 1000)); // let the slow answers above drain
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-profile-'));
    const text = readFileSync(path.join(DEFAULT_PROFILE_DIR, 'northgate-hr.yaml'), 'utf8')
      .replace('name: northgate-hr', 'name: northgate-hr-plus')
      .replace('fields:\n', 'fields:\n  - { field: hold_open, type: coil, address: 9 }\n')
      .replace(/^ {2}- \{ field: hold_open, type: holding.*\n/m, '');
    const file = path.join(dir, 'northgate-hr-plus.yaml');
    writeFileSync(file, text);
    const other = driversOn(
      { type: 'rtu-over-tcp', host: '127.0.0.1', port: sim.rtuTcpPort, baud: 115200 },
      [1],
      file,
    );
    try {
      expect(await reasonOf(other.drivers[0]!.read())).toBe('illegal-address');
      expect(other.drivers[0]!.health()).toMatchObject({ status: 'degraded', reason: 'illegal-address' });
    } finally {
      await other.close();
    }
  });
});

describe('link-level reasons', () => {
  it('nothing listening → connection-refused; a missing serial device → port-unavailable', async () => {
    const tcp = driversOn({ type: 'tcp', host: '127.0.0.1', port: await freePort() }, [1], 'northgate-hr');
    const rtu = driversOn({ type: 'rtu', path: '/nonexistent/ttyGH0', baud: 9600 }, [1], 'northgate-hr');
    try {
      expect(await reasonOf(tcp.drivers[0]!.read())).toBe('connection-refused');
      expect(await reasonOf(rtu.drivers[0]!.read())).toBe('port-unavailable');
    } finally {
      await tcp.close();
      await rtu.close();
    }
  });
});
