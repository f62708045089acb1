import pino from 'pino';
import { OnvifProbeDriver } from '../drivers/onvif/probe-driver.ts';
import { resolveOnvifOptions } from '../drivers/onvif/options.ts';
import { httpRequest } from '../drivers/onvif/digest.ts';
import { takeSnapshot } from '../drivers/onvif/snapshot.ts';
import { buildEnvelope } from '../drivers/onvif/soap/envelope.ts';
import { startTs } from '../test/helpers/procs.ts';
import type { BenchRun } from './types.ts';

/**
 * ONVIF driver: (1) health-check N simulated probes at once (clock, imaging, snapshot,
 * RTSP DESCRIBE per probe) against a ceiling of one bare unauthenticated SOAP call per
 * probe; (2) snapshots/s with JPEG decode + luma against raw digest GETs of the same URL.
 */
export const run: BenchRun = async ({ quick, log }) => {
  const count = quick ? 20 : 100;
  const snapSeconds = quick ? 2 : 4;
  const sim = startTs('device-sims/main.ts', [
    'probe',
    '--count',
    String(count),
    '--user',
    'bench',
    '--password',
    'pw',
    '--no-discovery',
  ]);
  const deadline = setTimeout(() => void sim.stop(), 120_000);
  try {
    await sim.waitFor(new RegExp(`cam=${count - 1} `), 60_000);
    const lines = sim
      .output()
      .split('\n')
      .filter((l) => l.includes('listening'));
    const urls = lines.map((l) => /device_service=(\S+)/.exec(l)![1]!);
    const snapshots = lines.map((l) => /snapshot=(\S+)/.exec(l)![1]!);
    const ctx = { log: pino({ level: 'silent' }), emit: () => undefined, dataDir: '/tmp' };
    const drivers = urls.map(
      (url, i) =>
        new OnvifProbeDriver(
          `p${i}`,
          resolveOnvifOptions({ url, username: 'bench', password: 'pw', events: false, timeoutMs: 10_000 }),
          ctx,
        ),
    );

    // ceiling: one unauthenticated GetSystemDateAndTime per probe, all at once
    const envelope = buildEnvelope('<tds:GetSystemDateAndTime/>');
    let t = performance.now();
    await Promise.all(
      urls.map((url) =>
        httpRequest({
          url,
          method: 'POST',
          body: envelope,
          headers: { 'content-type': 'application/soap+xml' },
          timeoutMs: 10_000,
        }),
      ),
    );
    const rawMs = performance.now() - t;

    t = performance.now();
    await Promise.all(drivers.map((d) => d.connect()));
    const connectMs = performance.now() - t;
    t = performance.now();
    const results = await Promise.all(drivers.map((d) => d.read()));
    const healthMs = performance.now() - t;
    const onlineCount = results.filter((r) => r.health?.status === 'online').length;
    await Promise.all(drivers.map((d) => d.close()));

    const loop = async (fn: (i: number) => Promise<unknown>) => {
      const end = Date.now() + snapSeconds * 1000;
      let n = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (Date.now() < end) await fn(n++ % snapshots.length);
        }),
      );
      return n / snapSeconds;
    };
    const auth = { username: 'bench', password: 'pw', timeoutMs: 10_000 };
    const rawSnaps = await loop((i) => httpRequest({ url: snapshots[i]!, ...auth }));
    const decodedSnaps = await loop((i) => takeSnapshot({ url: snapshots[i]!, ...auth }));

    log(
      `onvif: ${count} probes, health round ${healthMs.toFixed(0)} ms, snapshots ${decodedSnaps.toFixed(1)}/s`,
    );
    return {
      name: 'onvif',
      lines: [
        `| ONVIF (${count} simulated probes, one process) | value |`,
        '|---|---|',
        `| connect all (clock, capabilities, media profiles) | ${connectMs.toFixed(0)} ms |`,
        `| full health check of all, concurrently | ${healthMs.toFixed(0)} ms (${onlineCount}/${count} online) |`,
        `| ceiling: one bare GetSystemDateAndTime per probe | ${rawMs.toFixed(0)} ms |`,
        `| snapshots/s with decode + luma (4 in flight) | ${decodedSnaps.toFixed(1)} |`,
        `| ceiling: raw digest GET of the snapshot URL | ${rawSnaps.toFixed(1)}/s |`,
      ],
      ratios: [
        { label: 'health check vs bare SOAP call (time ratio, lower is better)', value: healthMs / rawMs },
        { label: 'snapshots/s decoded vs raw GET', value: decodedSnaps / rawSnaps },
      ],
    };
  } finally {
    clearTimeout(deadline);
    await sim.stop();
  }
};
