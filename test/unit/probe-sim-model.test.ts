import { describe, expect, it } from 'vitest';
import { parseDuration, parseTermination } from '../../device-sims/probe/soap/xml.ts';
import { topicMatches } from '../../device-sims/probe/events.ts';
import { jpegStats, snapshotJpeg } from '../../device-sims/probe/scene.ts';
import { CameraState, TOPICS, type CameraConfig, type SimEvent } from '../../device-sims/probe/state.ts';
import { parseProbeArgs } from '../../device-sims/probe/cli.ts';

describe('xs:duration and termination times', () => {
  it('parses durations and absolute times', () => {
    expect(parseDuration('PT60S')).toBe(60_000);
    expect(parseDuration('PT1M30S')).toBe(90_000);
    expect(parseDuration('P1DT1H')).toBe(25 * 3_600_000);
    expect(parseDuration('PT0.5S')).toBe(500);
    expect(parseDuration('PT')).toBeUndefined();
    expect(parseDuration('60')).toBeUndefined();
    expect(parseTermination('2030-01-01T00:00:00Z', 0)).toBe(Date.parse('2030-01-01T00:00:00Z'));
    expect(parseTermination('PT10S', 1000)).toBe(11_000);
  });
});

describe('topic filters', () => {
  it('matches subtrees and alternatives', () => {
    expect(topicMatches('tns1:RuleEngine//.', TOPICS.motion)).toBe(true);
    expect(topicMatches('tns1:VideoSource/MotionAlarm', TOPICS.motion)).toBe(false);
    expect(topicMatches('tns1:VideoSource/MotionAlarm|tns1:RuleEngine/TamperDetector', TOPICS.tamper)).toBe(
      true,
    );
    expect(topicMatches('tns1:Video', TOPICS.motionAlarm)).toBe(false);
  });
});

function config(overrides: Partial<CameraConfig> = {}): CameraConfig {
  const parsed = parseProbeArgs(['--no-discovery']);
  if (parsed === 'help') throw new Error('unexpected');
  return { ...parsed.cameras[0]!, ...overrides };
}

describe('camera state', () => {
  it('switches to night mode, reports a too-dark image on IR failure, and emits each change once', () => {
    const s = new CameraState(config({ clock: 'day' }));
    const seen: SimEvent[] = [];
    s.on('event', (e) => seen.push(e));
    s.setClock('night');
    expect(s.filterRemoved()).toBe(true);
    expect(s.imageTooDark()).toBe(false);
    s.setFault('ir-failure', true);
    expect(s.imageTooDark()).toBe(true);
    s.setFault('ir-failure', true);
    expect(seen.map((e) => `${e.topic}=${e.data[0]![1]}`)).toEqual([
      `${TOPICS.dayNight}=false`,
      `${TOPICS.tooDark}=true`,
    ]);
    s.close();
  });

  it('applies the fault skew and a changed password', () => {
    const s = new CameraState(config({ skewS: 5, password: 'pw' }));
    expect(Math.round((s.nowMs() - Date.now()) / 1000)).toBe(5);
    s.setFault('clock-skew', true, { skewS: -600 });
    expect(Math.round((s.nowMs() - Date.now()) / 1000)).toBe(-600);
    s.setFault('wrong-password', true);
    expect(s.password).not.toBe('pw');
    s.close();
  });
});

describe('scene', () => {
  it('renders 320x180 JPEGs whose luma follows day, IR night and IR failure', () => {
    const look = { day: true, nightMode: false, irLit: true, tamper: false, motion: false };
    const day = jpegStats(snapshotJpeg(look));
    const ir = jpegStats(snapshotJpeg({ ...look, day: false, nightMode: true }));
    const dark = jpegStats(snapshotJpeg({ ...look, day: false, nightMode: true, irLit: false }));
    expect(day.width).toBe(320);
    expect(day.luma).toBeGreaterThan(ir.luma);
    expect(ir.luma).toBeGreaterThan(dark.luma * 4);
    expect(ir.saturation).toBeLessThan(day.saturation / 3);
    expect(snapshotJpeg(look)).toBe(snapshotJpeg({ ...look })); // cached
  });
});

describe('CLI arguments', () => {
  it('gives --count cameras consecutive ports and distinct serials, and rejects bad values', () => {
    const o = parseProbeArgs(['--http', '127.0.0.1:9000', '--count', '3', '--serial', 'S']);
    if (o === 'help') throw new Error('unexpected');
    expect(o.cameras.map((c) => [c.httpPort, c.serial])).toEqual([
      [9000, 'S-0'],
      [9001, 'S-1'],
      [9002, 'S-2'],
    ]);
    expect(() => parseProbeArgs(['--http', 'nope'])).toThrow(/--http wants HOST:PORT/);
    expect(() => parseProbeArgs(['--clock', 'dusk'])).toThrow(/--clock must be one of/);
    expect(() => parseProbeArgs(['--fault', 'melted'])).toThrow(/--fault must be one of/);
    expect(parseProbeArgs(['--help'])).toBe('help');
  });
});
