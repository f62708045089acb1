import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInfluxSinkConfig } from '../../gateway/sinks/influx/config.ts';
import { InfluxSink } from '../../gateway/sinks/influx/influx-sink.ts';
import { startInfluxd, type Influxd } from '../helpers/influxd.ts';
import { eventually } from '../helpers/procs.ts';

let influx: Influxd;
let dataDir: string;

beforeAll(async () => {
  influx = await startInfluxd();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-influx-outage-'));
});
afterAll(async () => {
  await influx?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InfluxDB outage under steady load', () => {
  it('spools while influxd is down and delivers every point exactly once after it returns', async () => {
    const sink = new InfluxSink({
      config: resolveInfluxSinkConfig({
        url: influx.url,
        batchSize: 500,
        flushIntervalMs: 100,
        maxQueuePoints: 2000,
      }),
      village: 'oak',
      dataDir,
      logger: pino({ level: 'silent' }),
      maxBackoffMs: 500,
      requestTimeoutMs: 3000,
    });
    await sink.start();
    const base = Date.now() - 3_600_000;
    let seq = 0;
    // Steady load: 100 points every 10 ms across 20 barriers; each point's cycles = its sequence number.
    const producer = setInterval(() => {
      for (let i = 0; i < 100; i++, seq++) {
        sink.handle({
          type: 'telemetry',
          device: { id: `b${seq % 20}`, kind: 'barrier' },
          fields: { cycles: seq, arm_angle_deg: seq % 90, arm_state: 'open' },
          time: base + seq,
        });
      }
    }, 10);
    try {
      await sleep(1500);
      expect(sink.status()).toBe('connected');
      const beforeOutage = seq;
      await influx.stop();
      await eventually(() => sink.status() === 'spooling', { what: 'sink spooling', timeoutMs: 10_000 });
      await sleep(1500);
      const spooledDuringOutage = sink.stats().spool_points!;
      expect(spooledDuringOutage).toBeGreaterThan(0);
      expect(seq).toBeGreaterThan(beforeOutage);
      await influx.restart();
      await eventually(() => sink.status() === 'connected', { what: 'sink reconnected', timeoutMs: 20_000 });
      await sleep(1000);
    } finally {
      clearInterval(producer);
    }
    const total = seq;
    await sink.flush();
    await eventually(() => sink.stats().spool_points === 0 && sink.stats().queue_depth === 0, {
      what: 'spool replayed',
      timeoutMs: 30_000,
    });
    const s = sink.stats();
    await sink.close();
    expect(s.replayed).toBeGreaterThan(0);
    expect(s.points_dropped).toBe(0);
    expect(s.points_written).toBeGreaterThanOrEqual(total);

    const count = await influx.query(
      'SELECT count(cycles), min(cycles), max(cycles), sum(cycles) FROM barrier',
      'gatehouse',
    );
    const [, n, min, max, sum] = count[0]!.values[0]!;
    expect(n).toBe(total);
    expect(min).toBe(0);
    expect(max).toBe(total - 1);
    // Every sequence number once: the sum of 0..total-1.
    expect(sum).toBe((total * (total - 1)) / 2);
    // Spot checks: a point's values match what was sent, wherever it travelled.
    for (const k of [0, Math.floor(total / 3), Math.floor(total / 2), total - 1]) {
      const r = await influx.cli(
        `SELECT cycles, arm_angle_deg FROM barrier WHERE time = ${base + k}ms`,
        'gatehouse',
      );
      expect(r[0]?.values).toEqual([[base + k, k, k % 90]]);
    }
  });
});
