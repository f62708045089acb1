import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Influx from 'influx';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bus, type BusMessage } from '../../gateway/core/bus.ts';
import { resolveInfluxSinkConfig } from '../../gateway/sinks/influx/config.ts';
import { InfluxSink } from '../../gateway/sinks/influx/influx-sink.ts';
import { serializePoint } from '../../gateway/sinks/influx/line-protocol.ts';
import { INTEGER_FIELDS, toPoint } from '../../gateway/sinks/influx/points.ts';
import { schemaRefused } from '../../gateway/sinks/influx/schema.ts';
import { Spool } from '../../gateway/sinks/influx/spool.ts';
import { freePort } from '../helpers/procs.ts';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-influx-sink-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const quiet = pino({ level: 'silent' });

function mixed(n: number): BusMessage[] {
  const out: BusMessage[] = [];
  const dev = { id: 'gate 1', kind: 'barrier' as const, site: 'north, main', lane: 'in' };
  for (let i = 0; i < n; i++) {
    const t = 1_700_000_000_000 + i;
    switch (i % 4) {
      case 0:
        out.push({
          type: 'telemetry',
          device: dev,
          fields: { arm_state: 'open', cycles: i, supply_v: 24.1 },
          time: t,
        });
        break;
      case 1:
        out.push({
          type: 'health',
          device: dev,
          health: { status: 'degraded', reason: 'crc-error', since: '' },
          errors: 2,
          pollMs: 8,
          time: t,
        });
        break;
      case 2:
        out.push({
          type: 'event',
          device: dev,
          event: { type: 'command', detail: 'say "open"', commandId: `c${i}`, actor: 'api' },
          time: t,
        });
        break;
      default:
        out.push({ type: 'gateway', fields: { cpu: 0.25, queue_depth: i }, time: t });
    }
  }
  return out;
}

async function spooledText(): Promise<string> {
  const spool = await Spool.open({
    dir: path.join(dataDir, 'spool', 'influx'),
    maxBytes: 1 << 24,
    segmentBytes: 1 << 20,
    fsync: 'never',
  });
  let text = '';
  for (let r = await spool.peek(); r; r = await spool.peek()) {
    text += r.body.toString();
    await spool.ack(r);
  }
  await spool.close();
  return text;
}

describe('InfluxSink without an InfluxDB url (spool only)', () => {
  it('spools every point, exactly as the pure mapping serializes it', async () => {
    const sink = new InfluxSink({
      config: resolveInfluxSinkConfig({ batchSize: 7 }),
      village: 'oak',
      dataDir,
      logger: quiet,
    });
    await sink.start();
    expect(sink.status()).toBe('spooling');
    const bus = new Bus();
    bus.subscribe((m) => sink.handle(m));
    const msgs = mixed(50);
    for (const m of msgs) bus.publish(m);
    await sink.flush();
    const s = sink.stats();
    expect(s.points_spooled).toBe(50);
    expect(s.spool_points).toBe(50);
    expect(s.spool_bytes).toBeGreaterThan(0);
    expect(s.queue_depth).toBe(0);
    expect(s.points_written).toBe(0);
    expect(s.points_dropped).toBe(0);
    await sink.close();
    expect(sink.status()).toBe('closed');
    const expected = msgs
      .map((m) => {
        const p = toPoint(m, 'oak');
        return serializePoint(p, INTEGER_FIELDS[p.measurement]);
      })
      .join('');
    expect(await spooledText()).toBe(expected);
  });

  it('keeps spooled points across a restart', async () => {
    const config = resolveInfluxSinkConfig({ batchSize: 10 });
    const a = new InfluxSink({ config, village: 'oak', dataDir, logger: quiet });
    await a.start();
    for (const m of mixed(25)) a.handle(m);
    await a.close();
    const b = new InfluxSink({ config, village: 'oak', dataDir, logger: quiet });
    await b.start();
    expect(b.stats().spool_points).toBe(25);
    await b.close();
  });
});

describe('InfluxSink with InfluxDB unreachable', () => {
  it('says connecting, then spools batches once a write fails, bounding memory', async () => {
    // A port nothing listens on: connection refused, the real failure of a stopped influxd.
    const url = `http://127.0.0.1:${await freePort()}`;
    const sink = new InfluxSink({
      config: resolveInfluxSinkConfig({ url, batchSize: 10, maxQueuePoints: 20, flushIntervalMs: 50 }),
      village: 'oak',
      dataDir,
      logger: quiet,
      maxBackoffMs: 200,
    });
    await sink.start();
    expect(sink.status()).toBe('connecting');
    for (const m of mixed(100)) sink.handle(m);
    expect(sink.stats().queue_depth).toBeLessThanOrEqual(20);
    await sink.flush();
    expect(sink.status()).toBe('spooling');
    const s = sink.stats();
    expect(s.spool_points).toBe(100);
    expect(s.write_errors).toBeGreaterThan(0);
    expect(s.points_dropped).toBe(0);
    await sink.close();
  });
});

describe('schema refusal', () => {
  // Error objects shaped as node-influx raises them; an auth-enabled influxd is not part of the test rig.
  it('goes on writing when InfluxDB answered no, keeps spooling when it did not answer', () => {
    expect(schemaRefused(new Influx.ResultError('error authorizing query: requires admin privilege'))).toBe(
      true,
    );
    expect(schemaRefused(Object.assign(new Error('forbidden'), { res: { statusCode: 403 } }))).toBe(true);
    expect(schemaRefused(Object.assign(new Error('unavailable'), { res: { statusCode: 503 } }))).toBe(false);
    expect(schemaRefused(new Error('connect ECONNREFUSED 127.0.0.1:8086'))).toBe(false);
  });
});
