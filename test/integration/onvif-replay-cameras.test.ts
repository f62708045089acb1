import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOnvifDriver, type OnvifProbeDriver } from '../../drivers/onvif/index.ts';
import { PULL_FLOOR_MS } from '../../drivers/onvif/events.ts';
import {
  FIXTURES,
  FIXTURES_PRESENT,
  startReplayProcess,
  type ReplayCamera,
} from '../helpers/onvif-replay.ts';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RUN_MS = 10_000;
const USER = { username: 'installer', password: 'pw' };

/** Read every second, as the gateway's poller does with pollMs 1000; answers the last reading. */
async function poll(driver: OnvifProbeDriver, ms: number) {
  const t0 = performance.now();
  let last;
  while (performance.now() - t0 < ms) {
    const tick = performance.now();
    last = await driver.read();
    await sleep(1000 - (performance.now() - tick));
  }
  return last!;
}

// The captures hold no JPEG and no RTSP exchange: the replay (its own process, so the CPU
// measured here is the driver's) serves a small generated JPEG at the snapshot URI each
// capture advertises, and answers DESCRIBE for the stream path each one advertises.
// Everything else the driver sees is what the camera recorded, its 2018 clock included:
// clock-skew is the honest health of all three.

const CAMERAS: [ReplayCamera, { identity: object; features: Record<string, string> }][] = [
  [
    'axis',
    {
      identity: { manufacturer: 'AXIS', model: 'AXIS Q6045-E', firmware: '5.55.1.2' },
      // GetCapabilities: no Imaging service, WSPullPointSupport false, RelayOutputs 0.
      features: {
        imaging: 'unsupported',
        events: 'unsupported',
        snapshot: 'ok',
        stream: 'ok',
        'relay-outputs': 'unsupported',
      },
    },
  ],
  [
    'hikvision',
    {
      identity: { manufacturer: 'HIKVISION', model: 'DS-2DF7276-AEL', firmware: 'V5.1.6 build 140401' },
      // An Imaging service is advertised, but no imaging exchange was recorded: the replay
      // answers GetImagingSettings with ter:ActionNotSupported.
      features: { imaging: 'unsupported', events: 'ok', snapshot: 'ok', stream: 'ok', 'relay-outputs': 'ok' },
    },
  ],
  [
    'pelco',
    {
      identity: { manufacturer: 'Pelco', model: 'D6230L', firmware: '2.9.0.4.9340-A0.0' },
      features: { imaging: 'unsupported', events: 'ok', snapshot: 'ok', stream: 'ok', 'relay-outputs': 'ok' },
    },
  ],
];

describe.skipIf(!FIXTURES_PRESENT)(
  `the probe driver end to end against three real cameras, replayed (captures in ${FIXTURES}; skipped where that folder is absent)`,
  () => {
    let replay: Awaited<ReturnType<typeof startReplayProcess>> | undefined;
    let driver: OnvifProbeDriver | undefined;
    const probeOf = (camera: string, url: string) =>
      createOnvifDriver(
        `replay-${camera}`,
        'probe',
        { url, ...USER, timeoutMs: 2000, events: true, eventPullS: 5 },
        { log, emit: () => undefined, dataDir: '/tmp' },
      ) as OnvifProbeDriver;

    // Steady state is what a gateway running for months costs: the first seconds of a
    // process also pay for the JIT compiling the driver's code (on background threads this
    // process is charged for; measured cold, the same polls cost 2-3 % here). Warm it up,
    // out of every measurement.
    beforeAll(async () => {
      const warm = await startReplayProcess('hikvision', USER.username, USER.password);
      const d = probeOf('warm-up', warm.url);
      await d.connect();
      for (let i = 0; i < 150; i++) await d.read();

      await d.close();
      await warm.proc.stop();
    }, 60_000);
    afterEach(async () => {
      await driver?.close();
      await replay?.proc.stop();
    });

    it.each(CAMERAS)(
      '%s: identified, features found, clock-skew the only problem, no spin at a 1 s poll',
      async (camera, expected) => {
        replay = await startReplayProcess(camera, USER.username, USER.password);
        driver = probeOf(camera, replay.url);
        await driver.connect();
        // This camera's own answers through the JIT too, and the pull loop settled.
        for (let i = 0; i < 60; i++) await driver.read();
        await poll(driver, 1000);
        const pulls0 = driver.eventStats().pulls;
        const conn0 = (await replay.counters()).connections;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await poll(driver, RUN_MS);
        const cpu = process.cpuUsage(cpu0);
        const wallMs = performance.now() - t0;
        const conn = (await replay.counters()).connections;
        const figures = {
          // this process: the driver (the replay camera runs in its own)
          cpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
          pulls: driver.eventStats().pulls - pulls0,
          httpConnections: conn.http - conn0.http,
          rtspConnections: conn.rtsp - conn0.rtsp,
        };
        const h = r.health!;
        const features = driver.features();
        const id = driver.identity()!;
        console.log(
          `${camera}: ${id.manufacturer} ${id.model}, firmware ${id.firmware}; features ${Object.entries(
            features,
          )
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}; health ${h.status} (${h.reason}): ${h.detail}\n  ${JSON.stringify(figures)}`,
        );

        expect(id).toMatchObject(expected.identity);
        expect(features).toEqual(expected.features);
        expect(h).toMatchObject({ status: 'degraded', reason: 'clock-skew' });
        const failed = Object.entries(h.checks!).filter(([, c]) => c.status === 'failed');
        expect(failed).toEqual([['clock', expect.objectContaining({ reason: 'clock-skew' })]]);
        expect((r.fields as { clock_skew_s: number }).clock_skew_s).toBeLessThan(-5 * 365 * 86_400);
        expect(r.fields).toMatchObject({ online: true, stream_ok: true });
        expect(figures.cpuPercentOfOneCore).toBeLessThan(2);
        expect(figures.pulls).toBeLessThanOrEqual(wallMs / PULL_FLOOR_MS + 3);
        expect(figures.httpConnections).toBeLessThanOrEqual(3);
        expect(figures.rtspConnections).toBeLessThanOrEqual(RUN_MS / 1000 + 1); // one DESCRIBE a poll
      },
      30_000,
    );
  },
);
