import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/app.ts';
import type { CommandRecord } from '../../gateway/commands/schema.ts';
import { freePort, startTs, stopAll, eventually, type Proc } from '../helpers/procs.ts';
import { simControl, startBarrierSim } from '../helpers/gateway.ts';
import { ptyPair } from '../helpers/socat.ts';
import { startSim } from '../helpers/modbus-harness.ts';
import { auditLines, gatewayInProcess, simCloses } from '../helpers/supervision.ts';

type SimUnit = { arm_state: string; arm_angle_deg: number; impacts: number; loop_occupied: boolean };
const unitState = async (control: string, unit: number) =>
  ((await simControl(control, '/state')) as { units: Record<string, SimUnit> }).units[String(unit)]!;

/**
 * A car arrives while the gateway's close is bringing the arm down, on a controller
 * with no safety of its own (--blind): the gateway sees it at supervision rate and
 * sends the profile's reversal. Arms close slowly (3 s) so the car can be timed to
 * arrive mid-descent; the simulator says where the arm was when the gateway saw the car
 * and when the reversal arrived, and whether the arm ever came down on a vehicle.
 */
async function reverseMidDescent(
  gw: Gateway,
  dataDir: string,
  control: string,
  device: string,
  unit: number,
  tag: string,
): Promise<CommandRecord> {
  const submit = async (action: 'open' | 'close', n: number) =>
    gw.commands.submit(device, { requestId: `${tag}-${action}-${n}`, action, reason: 'test' }, 'test');
  const open = await submit('open', 1);
  expect((await gw.commands.wait(open.id, 10_000))?.state).toBe('confirmed');
  const close = await submit('close', 1);
  await eventually(
    async () => {
      const u = await unitState(control, unit);
      return u.arm_state === 'closing' && u.arm_angle_deg < 70;
    },
    { what: 'arm coming down', timeoutMs: 10_000 },
  );
  await simControl(control, '/traffic', { unit, arrive: 'in' });
  const final = (await gw.commands.wait(close.id, 10_000))!;
  expect(final).toMatchObject({ state: 'failed', failure: 'reversed:loop-occupied' });
  const u = await unitState(control, unit);
  expect(['opening', 'open']).toContain(u.arm_state);
  expect(u.impacts).toBe(0);
  // The simulator's account of this close: read clear before the write, then reversed high up.
  const rec = (await simCloses(control)).get(String(unit))!.at(-1)!;
  expect(rec).toMatchObject({ accepted: true, readLoop: false, race: false });
  expect(rec.reversalAngleDeg).toBeGreaterThan(30);
  // The audit holds the arm angle at detection and after the reversal.
  const audit = auditLines(dataDir).filter((a) => a.id === close.id);
  const end = audit.at(-1)!;
  expect(end.failure).toBe('reversed:loop-occupied');
  expect(end.data).toMatchObject({ outcome: 'reversed', sensor: 'loop-occupied' });
  expect(typeof end.data?.detectAngleDeg).toBe('number');
  expect(typeof end.data?.reversalAngleDeg).toBe('number');
  console.log(
    `${tag}: vehicle seen at ${end.data!.detectAngleDeg}° (simulator: ${rec.detectAngleDeg}°), reversal acknowledged ` +
      `${end.data!.reversalMs} ms later, arm at ${end.data!.reversalAngleDeg}° (simulator, at the reversal's arrival: ` +
      `${rec.reversalAngleDeg}°, ${rec.reversalMs} ms after the detecting read); ${end.data!.reads} supervision reads`,
  );
  return final;
}

const SLOW_ARM = ['--open-ms', '300', '--close-ms', '3000', '--traffic', 'off', '--blind'];

describe('a close reversed for a car, on a controller without its own safety', () => {
  afterAll(stopAll);

  describe('over Modbus TCP', () => {
    let gw: Gateway;
    let dataDir: string;
    let sim: Awaited<ReturnType<typeof startBarrierSim>>;
    beforeAll(async () => {
      sim = await startBarrierSim(SLOW_ARM);
      ({ gw, dataDir } = await gatewayInProcess(`village: sup
buses: [{ id: tcp-1, type: tcp, host: 127.0.0.1, port: ${sim.modbus}, timeoutMs: 300 }]
evidence: { enabled: false }
devices:
  - { id: gate-1, kind: barrier, driver: modbus, bus: tcp-1, unit: 1, profile: northgate-hr, lane: l1, pollMs: 500 }
`));
      await eventually(() => gw.state.all().every((s) => s.health.status === 'online'), { what: 'online' });
    });
    afterAll(async () => gw?.stop());

    it('reverses the arm as soon as the loop is occupied', async () => {
      await reverseMidDescent(gw, dataDir, sim.control, 'gate-1', 1, 'tcp');
      const metrics = (await gw.api.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(
        /gatehouse_supervision_reversals_total\{device="gate-1",sensor="loop-occupied"\} 1/,
      );
      expect(metrics).toMatch(/gatehouse_supervision_reads_total\{device="gate-1"\} [1-9]/);
      // The series it fills pass Prometheus's own lint, as the rest of /metrics does.
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      if (!lint.error) expect(lint.stdout + lint.stderr).not.toMatch(/supervis/);
    });
  });

  describe('on a shared RS-485 line at 9600 baud (pulsar-relay: stop, then open)', () => {
    let gw: Gateway;
    let dataDir: string;
    let pty: { a: string; b: string; proc: Proc };
    let control: string;
    beforeAll(async () => {
      pty = await ptyPair();
      const sim = await startSim([
        '--serial',
        pty.b,
        '--baud',
        '9600',
        '--units',
        '1,2',
        '--profile',
        'pulsar-relay',
        ...SLOW_ARM,
      ]);
      control = sim.control;
      ({ gw, dataDir } = await gatewayInProcess(`village: sup
buses: [{ id: rs485, type: rtu, path: ${pty.a}, baud: 9600, timeoutMs: 300 }]
evidence: { enabled: false }
devices:
  - { id: gate-1, kind: barrier, driver: modbus, bus: rs485, unit: 1, profile: pulsar-relay, lane: l1, pollMs: 500 }
  - { id: gate-2, kind: barrier, driver: modbus, bus: rs485, unit: 2, profile: pulsar-relay, lane: l2, pollMs: 500 }
`));
      await eventually(() => gw.state.all().every((s) => s.health.status === 'online'), {
        what: 'online',
        timeoutMs: 20_000,
      });
    });
    afterAll(async () => gw?.stop());

    it('reverses the arm while the line’s other unit waits', async () => {
      await reverseMidDescent(gw, dataDir, control, 'gate-1', 1, 'rtu');
      const log = (await simControl(control, '/state')) as {
        units: Record<string, { commands: { action: string }[] }>;
      };
      expect(log.units['1']!.commands.slice(-3).map((c) => c.action)).toEqual(['close', 'stop', 'open']);
    });
  });

  describe('a relay barrier guarded by its lane’s Modbus sensors', () => {
    let gw: Gateway;
    let probeControl: string;
    let sim: Awaited<ReturnType<typeof startBarrierSim>>;
    beforeAll(async () => {
      sim = await startBarrierSim(['--traffic', 'off']);
      const [http, ctl] = [await freePort(), await freePort()];
      probeControl = `http://127.0.0.1:${ctl}`;
      const probe = startTs('device-sims/main.ts', [
        ...['probe', '--http', `127.0.0.1:${http}`, '--control', `127.0.0.1:${ctl}`],
        ...['--user', 'gate', '--password', 'pw', '--no-discovery'],
      ]);
      await probe.waitFor(/listening/, 30_000);
      process.env.GH_TEST_SUP_RELAY_PW = 'pw';
      ({ gw } = await gatewayInProcess(`village: sup
buses: [{ id: tcp-1, type: tcp, host: 127.0.0.1, port: ${sim.modbus}, timeoutMs: 300 }]
evidence: { enabled: false }
devices:
  - { id: loop-1, kind: barrier, driver: modbus, bus: tcp-1, unit: 1, profile: northgate-hr, lane: side, pollMs: 500 }
  - id: side-gate
    kind: barrier
    driver: onvif-relay
    url: http://127.0.0.1:${http}/onvif/device_service
    username: gate
    password: { env: GH_TEST_SUP_RELAY_PW }
    relay: { token: RelayOutput_0, mode: bistable, travelMs: 4000 }
    lane: side
    pollMs: 1000
`));
      await eventually(() => gw.state.all().every((s) => s.health.status === 'online'), {
        what: 'online',
        timeoutMs: 30_000,
      });
    });
    afterAll(async () => gw?.stop());

    const relay = async () =>
      ((await simControl(probeControl, '/state')) as { relay?: { logicalState?: string } }).relay
        ?.logicalState;

    it('drives the relay open when a car reaches the loop while the arm comes down', async () => {
      const open = await gw.commands.submit(
        'side-gate',
        { requestId: 'r-open', action: 'open', reason: 't' },
        't',
      );
      expect((await gw.commands.wait(open.id, 10_000))?.state).toBe('confirmed');
      const close = await gw.commands.submit(
        'side-gate',
        { requestId: 'r-close', action: 'close', reason: 't' },
        't',
      );
      await eventually(async () => (await relay()) === 'inactive', { what: 'relay released' });
      await new Promise((r) => setTimeout(r, 500));
      await simControl(sim.control, '/traffic', { unit: 1, arrive: 'in' });
      const final = (await gw.commands.wait(close.id, 10_000))!;
      expect(final).toMatchObject({ state: 'failed', failure: 'reversed:loop-occupied' });
      expect(await relay()).toBe('active');
      console.log(`relay: ${final.history.at(-1)?.detail}`);
    });
  });
});
