import { describe, expect, it } from 'vitest';
import { OccupancyTracker } from '../../gateway/occupancy.ts';
import type { BusMessage } from '../../gateway/core/bus.ts';

const reading = (id: string, vin: number, vout: number, site = 'north'): BusMessage => ({
  type: 'telemetry',
  device: { id, kind: 'barrier', site },
  fields: { vehicles_in: vin, vehicles_out: vout },
  time: Date.now(),
});

describe('occupancy from barrier counters', () => {
  it('sums entries minus exits across a site’s barriers, from the first reading on', () => {
    const t = new OccupancyTracker({ north: 50 });
    t.handle(reading('in-1', 100, 40));
    t.handle(reading('out-1', 7, 90));
    expect(t.get('north')).toMatchObject({ occupancy: 0, free: 50 });
    t.handle(reading('in-1', 104, 41));
    t.handle(reading('out-1', 7, 92));
    expect(t.get('north')).toMatchObject({ occupancy: 1, entries: 4, exits: 3, free: 49 });
    expect(t.get('north')!.barriers).toEqual(['in-1', 'out-1']);
  });

  it('survives a controller restart that zeroes its counters', () => {
    const t = new OccupancyTracker();
    t.handle(reading('in-1', 500, 0));
    t.handle(reading('in-1', 502, 0));
    t.handle(reading('in-1', 1, 0)); // restarted: one new entry since
    expect(t.get('north')).toMatchObject({ occupancy: 3, entries: 3 });
  });

  it('takes a crew count as the new baseline and never goes below zero', () => {
    const t = new OccupancyTracker();
    t.handle(reading('gate', 0, 0));
    t.set('north', 10);
    t.handle(reading('gate', 0, 15));
    expect(t.get('north')!.occupancy).toBe(0);
  });

  it('ignores probes and devices without a site', () => {
    const t = new OccupancyTracker();
    t.handle({ type: 'telemetry', device: { id: 'cam', kind: 'probe', site: 'north' }, fields: {}, time: 0 });
    t.handle({
      type: 'telemetry',
      device: { id: 'b', kind: 'barrier' },
      fields: { vehicles_in: 1, vehicles_out: 0 },
      time: 0,
    });
    expect(t.all()).toEqual([]);
  });
});
