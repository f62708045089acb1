import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../gateway/core/bus.ts';
import { INTEGER_FIELDS, toPoint } from '../../gateway/sinks/influx/points.ts';
import { serializePoint } from '../../gateway/sinks/influx/line-protocol.ts';

const barrier = { id: 'b1', kind: 'barrier' as const, site: 'north', lane: 'in' };
const probe = { id: 'p1', kind: 'probe' as const };

describe('bus messages to InfluxDB points', () => {
  it('maps barrier telemetry to the barrier measurement with bounded tags', () => {
    const p = toPoint(
      {
        type: 'telemetry',
        device: barrier,
        fields: { arm_state: 'open', cycles: 7, loop_occupied: true },
        time: 5,
      },
      'oakfield',
    );
    expect(p).toEqual({
      measurement: 'barrier',
      tags: { village: 'oakfield', device: 'b1', kind: 'barrier', site: 'north', lane: 'in' },
      fields: { arm_state: 'open', cycles: 7, loop_occupied: true },
      time: 5,
    });
    expect(serializePoint(p, INTEGER_FIELDS.barrier)).toBe(
      'barrier,device=b1,kind=barrier,lane=in,site=north,village=oakfield arm_state="open",cycles=7i,loop_occupied=true 5\n',
    );
  });

  it('maps probe telemetry without site/lane tags when the device has none', () => {
    const p = toPoint(
      { type: 'telemetry', device: probe, fields: { ir_mode: 'auto', snapshot_luma: 12.5 }, time: 9 },
      'v',
    );
    expect(p.measurement).toBe('probe');
    expect(p.tags).toEqual({ village: 'v', device: 'p1', kind: 'probe' });
    expect(serializePoint(p, INTEGER_FIELDS.probe)).toBe(
      'probe,device=p1,kind=probe,village=v ir_mode="auto",snapshot_luma=12.5 9\n',
    );
  });

  it('maps health to device_health with online, status, reason ("" when none), errors, poll_ms', () => {
    const ok = toPoint(
      {
        type: 'health',
        device: barrier,
        health: { status: 'online', since: '' },
        errors: 0,
        pollMs: 12.5,
        time: 1,
      },
      'v',
    );
    expect(ok.measurement).toBe('device_health');
    expect(ok.fields).toEqual({ online: true, status: 'online', reason: '', errors: 0, poll_ms: 12.5 });
    const bad = toPoint(
      {
        type: 'health',
        device: barrier,
        health: { status: 'offline', reason: 'timeout', since: '' },
        errors: 3,
        time: 2,
      },
      'v',
    );
    expect(bad.fields).toEqual({ online: false, status: 'offline', reason: 'timeout', errors: 3 });
    expect(serializePoint(bad, INTEGER_FIELDS.device_health)).toContain('errors=3i');
  });

  it('keeps command ids, actors and plates of events in fields, never in tags', () => {
    const msg: BusMessage = {
      type: 'event',
      device: barrier,
      event: {
        type: 'command',
        detail: 'open confirmed',
        commandId: 'req-123',
        actor: 'platform',
        data: { plate: 'AB-123-CD', state: 'confirmed', ms: 840, type: 'clash' },
      },
      time: 3,
    };
    const p = toPoint(msg, 'v');
    expect(p.measurement).toBe('events');
    expect(Object.keys(p.tags).sort()).toEqual(['device', 'kind', 'lane', 'site', 'village']);
    expect(p.fields).toEqual({
      plate: 'AB-123-CD',
      state: 'confirmed',
      ms: 840,
      data_type: 'clash',
      type: 'command',
      detail: 'open confirmed',
      command_id: 'req-123',
      actor: 'platform',
    });
    const line = serializePoint(p, INTEGER_FIELDS.events);
    expect(line.split(' ')[0]).not.toMatch(/req-123|AB-123|platform/);
  });

  it('maps gateway stats to the gateway measurement tagged by village only, counters as integers', () => {
    const p = toPoint(
      { type: 'gateway', fields: { cpu: 0.5, rss_mb: 80.5, queue_depth: 10, points_dropped: 0 }, time: 4 },
      'v',
    );
    expect(p).toEqual({
      measurement: 'gateway',
      tags: { village: 'v' },
      fields: { cpu: 0.5, rss_mb: 80.5, queue_depth: 10, points_dropped: 0 },
      time: 4,
    });
    expect(serializePoint(p, INTEGER_FIELDS.gateway)).toBe(
      'gateway,village=v cpu=0.5,rss_mb=80.5,queue_depth=10i,points_dropped=0i 4\n',
    );
  });
});
