import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startGateway, TEST_TOKEN } from '../helpers/gateway.ts';
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

// A compressed outage: 20 s (not 60 s) at ~250 barrier points/s plus as many health
// points, so the suite fits its budget on 2 cores.
const DEVICES = 25;
const OUTAGE_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let influx: Influxd | undefined;
afterAll(async () => {
  await stopAll();
  await influx?.destroy();
});

it('InfluxDB stopped under load and restarted: 0 lost, 0 duplicated, replayed in order', async () => {
  influx = await startInfluxd();
  const proxy = await recordingInfluxProxy(influx.url);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-fault-outage-'));
  const gw = await startGateway(
    fleetYaml(
      seqProfile(dir),
      DEVICES,
      `influx: { url: ${proxy.url}, batchSize: 500, flushIntervalMs: 100, spool: { fsync: always } }\n`,
    ),
  );
  const oracle = await recordTelemetry(gw.mqttPort);
  const fleet = await startFleet(gw.mqttPort, fleetDevices(DEVICES), { intervalMs: 100, maxMs: 60_000 });
  await sleep(3000);
  expect(proxy.lines.length).toBeGreaterThan(0);

  await influx.stop();
  const down = Date.now();
  await eventually(async () => (await sinkStat(gw.api, TEST_TOKEN, 'influx', 'spool_points')) > 0, {
    what: 'points spooled',
  });
  await sleep(OUTAGE_MS - (Date.now() - down));
  const spooled = await sinkStat(gw.api, TEST_TOKEN, 'influx', 'spool_points');
  await influx.restart();
  const up = Date.now();
  await eventually(async () => (await sinkStat(gw.api, TEST_TOKEN, 'influx', 'spool_points')) === 0, {
    what: 'spool replayed',
    timeoutMs: 30_000,
  });
  const replayMs = Date.now() - up;
  await sleep(2000);
  await fleet.stop();
  const dropped = await sinkStat(gw.api, TEST_TOKEN, 'influx', 'points_dropped');
  await gw.proc.stop(15_000); // SIGTERM flushes the sink: every emitted point is due in InfluxDB
  await oracle.stop();
  await proxy.close();

  const a = account(oracle.points, await storedPoints(influx), proxy.lines);
  console.log(
    `influx outage ${OUTAGE_MS / 1000} s: ${JSON.stringify(a)}; spooled during outage ${spooled}; ` +
      `replay took ${replayMs} ms after restart; points_dropped ${dropped}`,
  );
  expect(a.emitted).toBeGreaterThan(DEVICES * 9 * ((OUTAGE_MS + 5000) / 1000));
  expect(spooled).toBeGreaterThan(1000);
  expect(a).toMatchObject({ lost: 0, wrong: 0, duplicated: 0, outOfOrder: 0 });
  expect(dropped).toBe(0);
}, 120_000);
