import { describe, expect, it } from 'vitest';
import {
  escapeMeasurement,
  escapeStringField,
  escapeTag,
  fieldSet,
  serializePoint,
  seriesKey,
} from '../../gateway/sinks/influx/line-protocol.ts';

describe('line protocol escaping (InfluxDB 1.x rules)', () => {
  it('escapes commas and spaces in measurements, not equals signs', () => {
    expect(escapeMeasurement('gate house,a=b')).toBe('gate\\ house\\,a=b');
    expect(escapeMeasurement('barrier')).toBe('barrier');
  });

  it('escapes commas, equals signs and spaces in tag keys, tag values and field keys', () => {
    expect(escapeTag('North Gate, lane=1')).toBe('North\\ Gate\\,\\ lane\\=1');
    expect(escapeTag('plain-value_1.2')).toBe('plain-value_1.2');
  });

  it('turns line breaks in names into spaces and a trailing backslash into a slash', () => {
    expect(escapeTag('a\nb\rc')).toBe('a\\ b\\ c');
    expect(escapeTag('dir\\')).toBe('dir/');
    expect(escapeTag('mid\\dle')).toBe('mid\\dle');
  });

  it('escapes double quotes and backslashes in string field values only', () => {
    expect(escapeStringField('say "hi" \\ bye, a=b')).toBe('say \\"hi\\" \\\\ bye, a=b');
  });
});

describe('field sets', () => {
  it('writes integers with an i suffix, floats plain, booleans and quoted strings', () => {
    const s = fieldSet(
      { cycles: 12, motor_current_a: 1.25, ok: true, off: false, arm_state: 'open', angle: 90 },
      new Set(['cycles']),
    );
    expect(s).toBe('cycles=12i,motor_current_a=1.25,ok=true,off=false,arm_state="open",angle=90');
  });

  it('truncates a fractional value of an integer field rather than changing the field type', () => {
    expect(fieldSet({ errors: 2.7 }, new Set(['errors']))).toBe('errors=2i');
  });

  it('leaves out values InfluxDB cannot store', () => {
    expect(fieldSet({ a: NaN, b: Infinity, c: 1 })).toBe('c=1');
    expect(fieldSet({ a: NaN })).toBe('');
  });

  it('escapes field keys', () => {
    expect(fieldSet({ 'a b=c,d': 1 })).toBe('a\\ b\\=c\\,d=1');
  });
});

describe('points', () => {
  it('sorts tags by key and leaves out empty tag values', () => {
    expect(seriesKey('barrier', { village: 'v', device: 'b1', kind: 'barrier', site: '' })).toBe(
      'barrier,device=b1,kind=barrier,village=v',
    );
  });

  it('serializes one line with a millisecond timestamp', () => {
    const line = serializePoint(
      {
        measurement: 'barrier',
        tags: { device: 'b 1', village: 'v' },
        fields: { cycles: 3, arm_state: 'open' },
        time: 1700000000123.7,
      },
      new Set(['cycles']),
    );
    expect(line).toBe('barrier,device=b\\ 1,village=v cycles=3i,arm_state="open" 1700000000123\n');
  });

  it('serializes nothing for a point without a writable field', () => {
    expect(serializePoint({ measurement: 'probe', tags: {}, fields: { x: NaN }, time: 1 })).toBe('');
  });
});
