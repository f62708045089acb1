import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInfluxSinkConfig } from '../../gateway/sinks/influx/config.ts';
import { InfluxSink } from '../../gateway/sinks/influx/influx-sink.ts';
import { startInfluxd, type Influxd } from '../helpers/influxd.ts';
import { eventually, startTs, type Proc } from '../helpers/procs.ts';

let influx: Influxd;
let dataDir: string;
let writer: Proc | undefined;

beforeAll(async () => {
  influx = await startInfluxd();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-influx-crash-'));
});
afterAll(async () => {
  await writer?.stop();
  await influx?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Run the writer child until it has acknowledged at least `atLeast` points, then SIGKILL it. */
async function writeThenKill(dir: string, db: string, base: number, atLeast: number): Promise<number> {
  writer = startTs('test/helpers/influx-crash-writer.ts', [
    '--data-dir',
    dir,
    '--db',
    db,
    '--url',
    influx.url,
    '--base',
    String(base),
  ]);
  await writer.waitFor(/^started/, 30_000);
  await eventually(() => lastAcked(writer!) >= atLeast, {
    what: `${atLeast} points acknowledged`,
    timeoutMs: 40_000,
  });
  writer.child.kill('SIGKILL');
  const exit = await writer.exited;
  expect(exit.signal).toBe('SIGKILL');
  expect(writer.output()).not.toMatch(/^done/m);
  return lastAcked(writer);
}

function lastAcked(p: Proc): number {
  const all = [...p.output().matchAll(/^acked (\d+)$/gm)];
  return all.length ? Number(all[all.length - 1]![1]) : 0;
}

/** Restart the sink on the same data dir and let it replay whatever the dead process spooled. */
async function replay(dir: string, db: string): Promise<Record<string, number>> {
  const sink = new InfluxSink({
    config: resolveInfluxSinkConfig({ url: influx.url, database: db }),
    village: 'crash',
    dataDir: dir,
    logger: pino({ level: 'silent' }),
  });
  await sink.start();
  await eventually(() => sink.stats().spool_points === 0 && sink.status() === 'connected', {
    what: 'spool replayed',
    timeoutMs: 30_000,
  });
  const s = sink.stats();
  await sink.close();
  return s;
}

async function assertAllPresent(db: string, acked: number): Promise<void> {
  const r = await influx.cli(`SELECT count(cycles), sum(cycles) FROM barrier WHERE cycles < ${acked}`, db);
  const [, n, sum] = r[0]!.values[0]!;
  expect(n).toBe(acked);
  expect(sum).toBe((acked * (acked - 1)) / 2);
}

describe('InfluxSink killed with SIGKILL mid-stream', () => {
  it('loses no acknowledged point when InfluxDB was down (everything in the spool)', async () => {
    const dir = path.join(dataDir, 'down');
    await influx.stop();
    const acked = await writeThenKill(dir, 'crash_down', Date.now() - 7_200_000, 20_000);
    await influx.restart();
    const s = await replay(dir, 'crash_down');
    expect(s.replayed).toBeGreaterThanOrEqual(acked);
    await assertAllPresent('crash_down', acked);
  });

  it('loses no acknowledged point when InfluxDB was up (written directly or spooled)', async () => {
    const dir = path.join(dataDir, 'up');
    const acked = await writeThenKill(dir, 'crash_up', Date.now() - 3_600_000, 20_000);
    await replay(dir, 'crash_up');
    await assertAllPresent('crash_up', acked);
  });
});
