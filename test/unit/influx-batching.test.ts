import { describe, expect, it } from 'vitest';
import type { DeviceRef } from '../../gateway/core/bus.ts';
import { LineBuffer } from '../../gateway/sinks/influx/line-buffer.ts';
import { SeriesKeyCache } from '../../gateway/sinks/influx/series-cache.ts';

describe('LineBuffer', () => {
  it('grows past its initial size and hands over exactly the bytes appended, UTF-8 included', () => {
    const b = new LineBuffer(16);
    const lines = ['events,device=é detail="ça marche ✓" 1\n', 'x v=1 2\n', `${'y'.repeat(100)} v=2 3\n`];
    for (const l of lines) b.append(l);
    expect(b.points).toBe(3);
    const batch = b.take()!;
    expect(batch.points).toBe(3);
    expect(batch.body.toString('utf8')).toBe(lines.join(''));
    expect(b.points).toBe(0);
    expect(b.take()).toBeUndefined();
  });

  it('does not let a taken batch change when appending continues', () => {
    const b = new LineBuffer(64);
    b.append('a v=1 1\n'.repeat(7));
    const first = b.take()!;
    b.append('b v=2 2\n'.repeat(7));
    expect(first.body.toString()).toBe('a v=1 1\n'.repeat(7));
    expect(b.take()!.body.toString()).toBe('b v=2 2\n'.repeat(7));
  });
});

describe('SeriesKeyCache', () => {
  const msg = (device: DeviceRef) => ({ type: 'telemetry' as const, device, fields: {}, time: 0 });

  it('gives the same key for the same ref and for a new ref with equal fields', () => {
    const c = new SeriesKeyCache('oak');
    const ref: DeviceRef = { id: 'b 1', kind: 'barrier', site: 'n' };
    expect(c.get(msg(ref), 'barrier')).toBe('barrier,device=b\\ 1,kind=barrier,site=n,village=oak');
    expect(c.get(msg({ ...ref }), 'barrier')).toBe('barrier,device=b\\ 1,kind=barrier,site=n,village=oak');
    expect(c.get(msg(ref), 'device_health')).toBe(
      'device_health,device=b\\ 1,kind=barrier,site=n,village=oak',
    );
  });

  it('notices a ref changed in place', () => {
    const c = new SeriesKeyCache('oak');
    const ref: DeviceRef = { id: 'b1', kind: 'barrier' };
    c.get(msg(ref), 'barrier');
    ref.lane = 'out';
    expect(c.get(msg(ref), 'barrier')).toBe('barrier,device=b1,kind=barrier,lane=out,village=oak');
  });

  it('keys gateway stats by village only', () => {
    expect(new SeriesKeyCache('oak').get({ type: 'gateway', fields: {}, time: 0 }, 'gateway')).toBe(
      'gateway,village=oak',
    );
  });
});
