import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { barrierYaml, simControl, startBarrierSim, startGateway, TEST_TOKEN } from '../helpers/gateway.ts';
import { startInfluxd, type Influxd } from '../helpers/influxd.ts';
import { eventually, stopAll } from '../helpers/procs.ts';
import {
  account,
  fleetDevices,
  fleetYaml,
  recordingInfluxProxy,
  recordTelemetry,
  seqProfile,
  sinkStat,
  startFleet,
  storedPoints,
} from './fleet.ts';

// Power cut of the whole gateway: SIGKILL while InfluxDB is down (every point goes
// through the spool) and a gate command is executing.
/** The InfluxDB sink's batch size here: the most a crash can make it send twice. */
const BATCH_POINTS = 500;
const DEVICES = 20;
/** A point is acknowledged once its batch is sealed (flushIntervalMs 100) and fsynced: 1 s covers both. */
const ACK_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let influx: Influxd | undefined;
afterAll(async () => {
  await stopAll();
  await influx?.destroy();
});

interface Unit {
  counts: { received: number };
  commands: { action: string }[];
}
const unit1 = async (control: string) =>
  ((await simControl(control, '/state')) as { units: Record<string, Unit> }).units['1']!;

it('SIGKILL under load: no acknowledged point lost, audit intact, the command in flight fails once', async () => {
  influx = await startInfluxd();
  const proxy = await recordingInfluxProxy(influx.url);
  const sim = await startBarrierSim(['--open-ms', '8000', '--close-ms', '300', '--traffic', 'off']);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-fault-kill-'));
  const fleetPart = fleetYaml(seqProfile(dir), DEVICES).replace(/^village: .*\ndevices:\n/, '');
  const yaml = barrierYaml(
    sim.modbus,
    `${fleetPart}influx: { url: ${proxy.url}, batchSize: ${BATCH_POINTS}, flushIntervalMs: 100, spool: { fsync: always } }\n`,
  ).replace('village: testville', 'village: faultville');
  const gw = await startGateway(yaml);
  const oracle = await recordTelemetry(gw.mqttPort);
  const fleet = await startFleet(gw.mqttPort, fleetDevices(DEVICES), { intervalMs: 100, maxMs: 90_000 });
  await sleep(2000);
  await influx.stop();
  await eventually(async () => (await sinkStat(gw.api, TEST_TOKEN, 'influx', 'spool_points')) > 0, {
    what: 'points spooled',
  });
  await sleep(3000);

  const cmd = await gw.post('/api/v1/barriers/barrier-1/commands', {
    requestId: 'kill-1',
    action: 'open',
    reason: 'fault suite',
  });
  expect(cmd.status).toBe(202);
  await eventually(async () => (await unit1(sim.control)).counts.received === 1, {
    what: 'the open reached the controller',
  });
  const executing = await gw.get(`/api/v1/commands/${String(cmd.body.id)}`);
  expect(executing.body.state).toBe('executing');

  gw.proc.child.kill('SIGKILL');
  const killedAt = Date.now();
  expect((await gw.proc.exited).signal).toBe('SIGKILL');
  await influx.restart();
  const again = await startGateway(yaml, {
    dataDir: gw.dataDir,
    apiPort: Number(new URL(gw.api).port),
    mqttPort: gw.mqttPort,
  });
  const backAt = Date.now();

  // The command in flight ends failed(gateway-restarted); its requestId does not actuate again.
  const after = await again.get(`/api/v1/commands/${String(cmd.body.id)}`);
  expect(after.body).toMatchObject({ state: 'failed', failure: 'gateway-restarted' });
  const repeat = await again.post('/api/v1/barriers/barrier-1/commands', {
    requestId: 'kill-1',
    action: 'open',
    reason: 'fault suite, retried by the fee system',
  });
  expect(repeat.body).toMatchObject({ id: cmd.body.id, state: 'failed', failure: 'gateway-restarted' });
  await sleep(1500);
  expect((await unit1(sim.control)).counts.received).toBe(1);

  // The audit log: every line whole JSON, and the command's story told once, in order.
  const audit = readFileSync(path.join(gw.dataDir, 'audit', 'commands.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const entries = audit.map((l) => JSON.parse(l) as { requestId: string; state: string; failure?: string });
  expect(entries.filter((e) => e.requestId === 'kill-1').map((e) => e.state)).toEqual([
    'accepted',
    'executing',
    'failed',
  ]);

  await eventually(async () => (await sinkStat(again.api, TEST_TOKEN, 'influx', 'spool_points')) === 0, {
    what: 'spool replayed after the restart',
    timeoutMs: 30_000,
  });
  const replayMs = Date.now() - backAt;
  await sleep(1000);
  await fleet.stop();
  await again.proc.stop(15_000);
  await oracle.stop();
  await proxy.close();

  const stored = await storedPoints(influx);
  const timeOf = (k: string) => Number(k.split('@')[1]);
  const acked = account(
    oracle.points,
    stored,
    proxy.lines,
    (k) => timeOf(k) <= killedAt - ACK_MS || timeOf(k) > killedAt,
    fleet.published,
  );
  const window = account(
    oracle.points,
    stored,
    [],
    (k) => timeOf(k) > killedAt - ACK_MS && timeOf(k) <= killedAt,
  );
  const { unobserved, ...summary } = acked;
  console.log(
    `gateway SIGKILL: acknowledged ${JSON.stringify(summary)}; ${unobserved.length} stored points the recorder ` +
      `was away for (ms from the kill: ${unobserved.map((k) => timeOf(k) - killedAt).join(', ')}); last ${ACK_MS} ms before the kill: ` +
      `${window.emitted} emitted, ${window.lost} lost; spool replayed ${replayMs} ms after the restart; ` +
      `lost at (ms from the kill) ${acked.lostKeys.map((k) => timeOf(k) - killedAt).join(', ')}`,
  );
  expect(acked.emitted).toBeGreaterThan(DEVICES * 5 * 10);
  expect(acked.lost).toBe(0);
  // Stored is what was emitted, value for value. The recorder is an MQTT subscriber: it
  // cannot see what the gateway published in its last moments before the kill, nor after
  // the restart until it has subscribed again (the fleet may reconnect first). Such points
  // must carry a number their device published, and only around the kill.
  expect(acked.wrong).toBe(0);
  for (const k of unobserved) expect(timeOf(k) - killedAt, k).toBeGreaterThan(-ACK_MS);
  for (const k of unobserved) expect(timeOf(k) - backAt, k).toBeLessThan(10_000);
  // A kill between InfluxDB's acknowledgement of a batch and the spool's record of it
  // sends that batch once more after the restart: at least once across a crash, which
  // InfluxDB absorbs (the same points overwrite themselves). No more than that one batch.
  expect(acked.duplicated).toBeLessThanOrEqual(BATCH_POINTS);
}, 120_000);
