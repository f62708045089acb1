import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
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
  metricValue,
  recordingInfluxProxy,
  recordTelemetry,
  seqProfile,
  sinkStat,
  startFleet,
  storedPoints,
} from './fleet.ts';

// The spool's file system fills up: a 256 KiB tmpfs mounted over the spool folder in a
// mount namespace of the gateway's own (unshare -m, as root), so nothing outside the
// test sees it and it vanishes with the process. InfluxDB is down, so every point heads
// for the spool. Space "returns" by remounting the tmpfs larger from inside the namespace.
const DEVICES = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let influx: Influxd | undefined;
afterAll(async () => {
  await stopAll();
  await influx?.destroy();
});

it.skipIf(process.getuid?.() !== 0)(
  'spool disk full: loud error, counted drops, keeps serving and polling, recovers when space returns',
  async () => {
    influx = await startInfluxd();
    const proxy = await recordingInfluxProxy(influx.url);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-fault-disk-'));
    const dataDir = path.join(dir, 'data');
    const spoolDir = path.join(dataDir, 'spool');
    mkdirSync(spoolDir, { recursive: true });
    await influx.stop();
    const gw = await startGateway(
      fleetYaml(
        seqProfile(dir),
        DEVICES,
        `influx: { url: ${proxy.url}, batchSize: 200, flushIntervalMs: 100, spool: { fsync: always, segmentBytes: 65536 } }\n`,
      ),
      {
        dataDir,
        prefix: [
          'unshare',
          '-m',
          'sh',
          '-c',
          `mount -t tmpfs -o size=256k tmpfs ${spoolDir} && exec "$@"`,
          'sh',
        ],
      },
    );
    const oracle = await recordTelemetry(gw.mqttPort);
    const fleet = await startFleet(gw.mqttPort, fleetDevices(DEVICES), { intervalMs: 100, maxMs: 90_000 });
    const stat = (s: string) => sinkStat(gw.api, TEST_TOKEN, 'influx', s);

    await gw.proc.waitFor(/GH_SPOOL_WRITE/, 30_000);
    const fullAt = Date.now();
    const readingsAtFull = await metricValue(gw.api, TEST_TOKEN, 'gatehouse_readings_total');
    await sleep(3000);
    const droppedWhileFull = await stat('points_dropped');
    expect(droppedWhileFull).toBeGreaterThan(0);
    expect((await fetch(`${gw.api}/healthz`)).status).toBe(200);
    expect(await metricValue(gw.api, TEST_TOKEN, 'gatehouse_readings_total')).toBeGreaterThan(
      readingsAtFull + DEVICES * 15,
    );

    execFileSync('nsenter', ['-t', String(gw.proc.pid), '-m', 'mount', '-o', 'remount,size=64m', spoolDir]);
    const freedAt = Date.now();
    const spooledAtFree = await stat('points_spooled');
    await eventually(async () => (await stat('points_spooled')) > spooledAtFree + DEVICES * 20, {
      what: 'spooling again once space returned',
    });
    const recoverMs = Date.now() - freedAt;
    const droppedTotal = await stat('points_dropped');
    await influx.restart();
    await eventually(async () => (await stat('spool_points')) === 0, {
      what: 'spool replayed',
      timeoutMs: 40_000,
    });
    await fleet.stop();
    const dropped = await stat('points_dropped');
    await gw.proc.stop(15_000);
    await oracle.stop();
    await proxy.close();

    const a = account(oracle.points, await storedPoints(influx), proxy.lines);
    const lines = gw.proc.output().split('\n');
    const errors = lines.filter((l) => l.includes('GH_SPOOL_WRITE')).length;
    const codes = [...new Set(lines.flatMap((l) => /"code":"(GH_[A-Z_]+)"/.exec(l)?.[1] ?? []))];
    const corrupt = lines.filter((l) => /GH_SPOOL_CORRUPT|torn/.test(l)).slice(0, 2);
    console.log(
      `disk full: ${JSON.stringify(a)}; dropped while full ${droppedWhileFull} in ${Date.now() - fullAt} ms, ` +
        `${droppedTotal} by the time space returned, ${dropped} at the end (all measurements); ` +
        `${errors} GH_SPOOL_WRITE log lines; codes logged ${codes.join(' ')}; ` +
        `spooling again ${recoverMs} ms after space returned ${corrupt.join('\n')}`,
    );
    expect(a.lost).toBeGreaterThan(0);
    // Every barrier point lost is one the gateway counted as dropped (the count also holds health points).
    expect(a.lost).toBeLessThanOrEqual(dropped);
    expect(a.duplicated).toBe(0);
    expect(dropped).toBe(droppedTotal);
    expect(gw.proc.output()).not.toMatch(/GH_SPOOL_CORRUPT/);
  },
  120_000,
);
