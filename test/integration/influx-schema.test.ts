import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInfluxSinkConfig } from '../../gateway/sinks/influx/config.ts';
import { InfluxSink } from '../../gateway/sinks/influx/influx-sink.ts';
import { downsampleSelect, ensureSchema, influxClient } from '../../gateway/sinks/influx/schema.ts';
import { startInfluxd, type Influxd, type QuerySeries } from '../helpers/influxd.ts';

let influx: Influxd;
let dataDir: string;
const quiet = pino({ level: 'silent' });

beforeAll(async () => {
  influx = await startInfluxd();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-influx-schema-'));
});
afterAll(async () => {
  await influx?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

function rows(series: QuerySeries[]): Record<string, unknown>[] {
  return series.flatMap((s) =>
    s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })),
  );
}

describe('InfluxDB schema (real influxd, seen through the influx CLI)', () => {
  it('creates the database, retention policies and continuous queries idempotently', async () => {
    for (let i = 0; i < 2; i++) {
      const sink = new InfluxSink({
        config: resolveInfluxSinkConfig({ url: influx.url }),
        village: 'v',
        dataDir,
        logger: quiet,
      });
      await sink.start();
      expect(sink.status()).toBe('connected');
      await sink.close();
    }
    // And once more straight through node-influx.
    await ensureSchema(
      influxClient({ url: influx.url, database: 'gatehouse', timeoutMs: 5000 }),
      'gatehouse',
    );

    const dbs = rows(await influx.cli('SHOW DATABASES')).map((r) => r.name);
    expect(dbs).toContain('gatehouse');
    const rps = rows(await influx.cli('SHOW RETENTION POLICIES ON gatehouse'));
    expect(rps).toContainEqual(
      expect.objectContaining({ name: 'raw_30d', duration: '720h0m0s', default: true }),
    );
    expect(rps).toContainEqual(
      expect.objectContaining({ name: 'downsampled_2y', duration: '17520h0m0s', default: false }),
    );
    expect(rps.filter((r) => r.name === 'raw_30d')).toHaveLength(1);
    const cqs = rows(await influx.cli('SHOW CONTINUOUS QUERIES')).filter((r) =>
      String(r.name).startsWith('cq_'),
    );
    expect(cqs.map((r) => r.name).sort()).toEqual([
      'cq_barrier_5m',
      'cq_device_health_5m',
      'cq_gateway_5m',
      'cq_probe_5m',
    ]);
    for (const cq of cqs)
      expect(String(cq.query)).toMatch(
        /mean\(\*\) INTO gatehouse\.downsampled_2y\.\w+ .*GROUP BY time\(5m\), \*/,
      );
  });

  it('writes points with the right tags and fields, and the CQ select downsamples them', async () => {
    const sink = new InfluxSink({
      config: resolveInfluxSinkConfig({ url: influx.url, flushIntervalMs: 100 }),
      village: 'oak field',
      dataDir,
      logger: quiet,
    });
    await sink.start();
    const t0 = Date.now() - 20 * 60_000;
    const gate = { id: 'gate-1', kind: 'barrier' as const, site: 'North, main', lane: 'in=1' };
    const cam = { id: 'cam-1', kind: 'probe' as const };
    for (let i = 0; i < 4; i++) {
      sink.handle({
        type: 'telemetry',
        device: gate,
        fields: {
          arm_state: 'open',
          arm_angle_deg: 80 + i,
          loop_occupied: i % 2 === 0,
          cycles: 100 + i,
          fault_code: 0,
        },
        time: t0 + i * 60_000,
      });
    }
    sink.handle({
      type: 'telemetry',
      device: cam,
      fields: { ir_mode: 'auto', night: true, snapshot_luma: 42.5 },
      time: t0,
    });
    sink.handle({
      type: 'health',
      device: gate,
      health: { status: 'online', since: '' },
      errors: 0,
      pollMs: 11,
      time: t0,
    });
    sink.handle({
      type: 'health',
      device: cam,
      health: { status: 'offline', reason: 'auth-failed', since: '' },
      errors: 4,
      time: t0,
    });
    sink.handle({
      type: 'event',
      device: gate,
      event: {
        type: 'command',
        detail: 'open "confirmed"',
        commandId: 'req-9',
        actor: 'platform',
        data: { plate: 'AB-1', ms: 700 },
      },
      time: t0,
    });
    sink.handle({ type: 'gateway', fields: { cpu: 0.3, rss_mb: 90, points_written: 10 }, time: t0 });
    await sink.flush();
    expect(sink.stats().points_written).toBe(9);
    await sink.close();

    const barrier = rows(await influx.cli('SELECT * FROM barrier ORDER BY time', 'gatehouse'));
    expect(barrier).toHaveLength(4);
    expect(barrier[1]).toMatchObject({
      time: t0 + 60_000,
      village: 'oak field',
      device: 'gate-1',
      kind: 'barrier',
      site: 'North, main',
      lane: 'in=1',
      arm_state: 'open',
      arm_angle_deg: 81,
      loop_occupied: false,
      cycles: 101,
    });
    const tagKeys = rows(await influx.cli('SHOW TAG KEYS FROM events', 'gatehouse')).map((r) => r.tagKey);
    expect(tagKeys.sort()).toEqual(['device', 'kind', 'lane', 'site', 'village']);
    const fieldKeys = Object.fromEntries(
      rows(await influx.cli('SHOW FIELD KEYS', 'gatehouse')).map((r) => [
        `${String(r.fieldKey)}`,
        r.fieldType,
      ]),
    );
    // SHOW FIELD KEYS merges measurements; these names are unique to one each.
    expect(fieldKeys).toMatchObject({
      cycles: 'integer',
      arm_state: 'string',
      ir_mode: 'string',
      errors: 'integer',
      reason: 'string',
    });
    const fieldTypes = rows(await influx.cli('SHOW FIELD KEYS FROM device_health', 'gatehouse'));
    expect(fieldTypes).toContainEqual({ fieldKey: 'online', fieldType: 'boolean' });
    const health = rows(await influx.cli("SELECT * FROM device_health WHERE device = 'cam-1'", 'gatehouse'));
    expect(health[0]).toMatchObject({ online: false, reason: 'auth-failed', status: 'offline', errors: 4 });
    const healthOk = rows(
      await influx.cli("SELECT * FROM device_health WHERE device = 'gate-1'", 'gatehouse'),
    );
    expect(healthOk[0]).toMatchObject({ online: true, reason: '', poll_ms: 11 });
    const events = rows(await influx.cli('SELECT * FROM events', 'gatehouse'));
    expect(events[0]).toMatchObject({
      type: 'command',
      detail: 'open "confirmed"',
      command_id: 'req-9',
      actor: 'platform',
      plate: 'AB-1',
      ms: 700,
    });
    const probe = rows(await influx.cli('SELECT * FROM probe', 'gatehouse'));
    expect(probe[0]).toMatchObject({ ir_mode: 'auto', night: true, snapshot_luma: 42.5, device: 'cam-1' });
    const gw = rows(await influx.cli('SELECT * FROM gateway', 'gatehouse'));
    expect(gw[0]).toMatchObject({ village: 'oak field', cpu: 0.3, points_written: 10 });

    // The CQ's own SELECT, run by hand over the written range: numeric means land in the 2-year RP.
    await influx.cli(
      downsampleSelect('gatehouse', 'barrier', `time >= ${t0}ms AND time < ${t0 + 3_600_000}ms`),
    );
    const down = rows(await influx.cli('SELECT * FROM gatehouse.downsampled_2y.barrier', 'gatehouse'));
    expect(down.length).toBeGreaterThanOrEqual(1);
    const total = down.reduce((s, r) => s + Number(r.mean_cycles), 0);
    expect(down.every((r) => r.device === 'gate-1' && r.site === 'North, main')).toBe(true);
    expect(total).toBeGreaterThan(0);
    expect(down[0]).not.toHaveProperty('mean_arm_state');
  });

  it('counts points InfluxDB refuses (field type conflict) as dropped without retrying them', async () => {
    const sink = new InfluxSink({
      config: resolveInfluxSinkConfig({ url: influx.url }),
      village: 'v',
      dataDir,
      logger: quiet,
    });
    await sink.start();
    const gate = { id: 'gate-2', kind: 'barrier' as const };
    const t = Date.now() - 60_000;
    sink.handle({
      type: 'event',
      device: gate,
      event: { type: 'fault', detail: 'a', data: { ms: 1.5 } },
      time: t,
    });
    // `ms` is a float field in `events` already: a string for it conflicts.
    sink.handle({
      type: 'event',
      device: gate,
      event: { type: 'fault', detail: 'b', data: { ms: 'slow' } },
      time: t + 1,
    });
    sink.handle({ type: 'event', device: gate, event: { type: 'fault', detail: 'c' }, time: t + 2 });
    await sink.flush();
    const s = sink.stats();
    expect(s.points_rejected).toBe(1);
    expect(s.points_dropped).toBe(1);
    expect(s.points_written).toBe(2);
    expect(s.spool_points).toBe(0);
    expect(sink.status()).toBe('connected');
    await sink.close();
    const ev = rows(await influx.cli("SELECT detail FROM events WHERE device = 'gate-2'", 'gatehouse'));
    expect(ev.map((r) => r.detail)).toEqual(['a', 'c']);
  });
});
