import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { HEALTH_REASONS, type BaseHealthReason, type HealthStatus } from '../../drivers/contract/health.ts';
import { startGateway, TEST_TOKEN } from '../helpers/gateway.ts';
import { startProbeSim, type ProbeSimCamera } from '../helpers/onvif-replay.ts';
import { eventually, stopAll } from '../helpers/procs.ts';
import { fleetDevices, fleetYaml, metricValue, seqProfile, startFleet } from './fleet.ts';

// Cameras going wrong while the gateway carries a steady MQTT fleet: five probes of one
// simulator process, polled every second with a one-second timeout. The last camera is
// off the network for a minute; meanwhile the other four cycle through garbage answers,
// changed credentials, answers slower than the timeout and a clock an hour off, each
// camera a different fault at any moment. Every fault must show with its own reason and
// nothing else, and clear back to online; the gateway's heap, measured after a full GC
// before and after, must stay flat.

const FLEET = 10;
const CAMS = 5;
const OFFLINE_CAM = CAMS - 1;
const OFFLINE_MS = 60_000;
/** How long a fault is held once the gateway reports it (three polls). */
const HOLD_MS = 3_000;
/** A fault shows at the first poll after it starts: 1 s apart, 1 s timeout, a slack for load. */
const DETECT_MS = 10_000;
/** After a fault: a failing camera is polled at most 5 s apart (poller back-off), then rediscovered. */
const RECOVER_MS = 15_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Expected {
  status: HealthStatus;
  reason: BaseHealthReason;
}
type CycledFault = 'garbage-xml' | 'wrong-password' | 'slow' | 'clock-skew';
const CYCLED: Record<CycledFault, Expected & { body?: Record<string, number> }> = {
  'garbage-xml': { status: 'degraded', reason: 'bad-response' },
  'wrong-password': { status: 'offline', reason: 'auth-failed' },
  slow: { status: 'offline', reason: 'timeout', body: { delayMs: 2_500 } },
  'clock-skew': { status: 'degraded', reason: 'clock-skew', body: { skewS: 3_600 } },
};
const OFFLINE: Expected = { status: 'offline', reason: 'connection-refused' };
const ORDER = Object.keys(CYCLED) as CycledFault[];
const label = (h: { status: string; reason?: string }) =>
  h.status === 'online' ? 'online' : `${h.status}/${h.reason}`;
/**
 * Heap growth allowed across the phase, after a full GC at both ends. Without a warm-up
 * it was 0.7 to 2.7 MB alone and 7.1 MB once beside the other fault tests, nearly all of
 * it early on (measured every 10 s it rose about 1 MB in the first 10 s, the first failure
 * of each kind building what it needs once, then moved within ±0.4 MB; three minutes of
 * the same cycling stayed within 38.5-39.2 MB): the phase now starts after one of each
 * fault. The phase
 * makes some 1,400 camera exchanges (SOAP answers, snapshots, connections; at least 800
 * asserted): leaving 3 KB behind per exchange (a socket, a parser, an answer's buffer)
 * would cross it.
 */
const HEAP_GROWTH_MAX = 5 * 2 ** 20;

/**
 * Full GC in the gateway on SIGUSR2, and the heap it leaves, read in the same turn (a
 * preload: the gateway itself has no such hook). Read any later, through /metrics, the
 * heap holds what the load allocated meanwhile: up to 4 MB of young objects measured
 * beside the other fault tests, 7 MB once in CI. Spaces split NODE_OPTIONS.
 */
const GC_HOOK =
  "--expose-gc --import=data:text/javascript,let%20n=0;process.on('SIGUSR2',()=>{gc();console.error('gc-done:'+(++n)+'%20heap-used:'+process.memoryUsage().heapUsed)})";

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c().catch(() => undefined);
  await stopAll();
});

interface Sample {
  t: number;
  h: string;
}
interface Episode {
  cam: number;
  fault: CycledFault | 'offline';
  expected: Expected;
  setAt: number;
  detectedAt: number;
  clearedAt: number;
  recoveredAt: number;
}

it('probes garbage / 401 / slow / 1 h skew / offline a minute under load: right reasons, back online, heap flat', async () => {
  const sim = await startProbeSim([
    '--count',
    String(CAMS),
    '--user',
    'admin',
    '--password',
    'cam-pw',
    '--no-discovery',
  ]);
  const cams: ProbeSimCamera[] = sim.cams;
  expect(cams).toHaveLength(CAMS);
  const camYaml = cams
    .map(
      (c, i) =>
        `  - { id: cam-${i}, kind: probe, driver: onvif, url: ${c.deviceUrl}, username: admin, password: { env: GH_TEST_CAM_PW }, pollMs: 1000, timeoutMs: 1000 }`,
    )
    .join('\n');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-fault-probe-'));
  const gw = await startGateway(`${fleetYaml(seqProfile(dir), FLEET)}${camYaml}\n`, {
    env: {
      GH_TEST_CAM_PW: 'cam-pw',
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${GC_HOOK}`.trim(),
    },
  });
  const fleet = await startFleet(gw.mqttPort, fleetDevices(FLEET), { intervalMs: 100, maxMs: 150_000 });
  cleanup.push(() => fleet.stop());

  // Every camera's health as the API shows it, four times a second.
  const timeline: Sample[][] = cams.map(() => []);
  const fleetSeen = new Set<string>();
  let sampling = true;
  let apiError: unknown;
  const sampler = (async () => {
    while (sampling) {
      try {
        const { devices } = (await gw.get('/api/v1/devices')).body as {
          devices: { id: string; health: { status: string; reason?: string } }[];
        };
        const t = Date.now();
        for (const d of devices) {
          const m = /^cam-(\d+)$/.exec(d.id);
          if (m) timeline[Number(m[1])]!.push({ t, h: label(d.health) });
          else fleetSeen.add(label(d.health));
        }
      } catch (err) {
        apiError = err;
      }
      await sleep(250);
    }
  })();
  cleanup.unshift(async () => {
    sampling = false;
    await sampler;
  });
  const until = (cam: number, want: string, since: number, timeoutMs: number) =>
    eventually(
      () => {
        if (apiError) throw apiError; // named in the timeout's message
        return timeline[cam]!.find((s) => s.t >= since && s.h === want)?.t;
      },
      { what: `cam-${cam} ${want}`, timeoutMs, intervalMs: 50 },
    );

  // A fault starts just after one of the camera's polls, so the next poll meets it whole.
  // Started mid-poll, a poll sees it in part, a different fault: a camera turning slow
  // after its SOAP answers but before its RTSP check reads degraded(stream-unreachable)
  // for that poll (seen once in CI), a true picture of that moment but not the one tested.
  const afterPoll = async (cam: number) => {
    const seen = async () =>
      ((await gw.get(`/api/v1/devices/cam-${cam}`)).body as { lastSeen?: string }).lastSeen;
    const before = await seen();
    await eventually(async () => ((await seen()) !== before ? true : undefined), {
      what: `cam-${cam} polled`,
      timeoutMs: 8_000,
      intervalMs: 10,
    });
  };

  const start = Date.now();
  for (let i = 0; i < CAMS; i++) await until(i, 'online', start, 30_000);
  await sleep(3_000);
  let gcs = 0;
  const heapAfterGc = async () => {
    gw.proc.child.kill('SIGUSR2');
    const line = await gw.proc.waitFor(new RegExp(`gc-done:${++gcs} heap-used:\\d+`), 10_000);
    return Number(/heap-used:(\d+)/.exec(line)![1]);
  };
  // One of each fault first, all at once: what the first failure of a kind builds once
  // (its code compiled, parsers, agents) is not growth. Measured under the suite's other
  // fault tests this one-time cost alone reached 7 MB.
  await Promise.all(
    cams.map(async (cam, i) => {
      const fault = i === OFFLINE_CAM ? 'offline' : ORDER[i]!;
      const { body, ...expected } = i === OFFLINE_CAM ? { ...OFFLINE, body: {} } : CYCLED[ORDER[i]!];
      const setAt = Date.now();
      await cam.control('/fault', { fault, active: true, ...body });
      await until(i, label(expected), setAt, DETECT_MS);
      const clearedAt = Date.now();
      await cam.control('/fault', { fault, active: false });
      await until(i, 'online', clearedAt, RECOVER_MS);
    }),
  );
  await sleep(3_000);
  const heapBefore = await heapAfterGc();
  /** What the cameras served: SOAP answers (garbage ones too), snapshots, TCP connections. */
  const served = async () => {
    let n = 0;
    for (const cam of cams) {
      const st = (await cam.state()) as {
        soapRequests: Record<string, number>;
        snapshotsServed: number;
        connectionsAccepted: { http: number; rtsp: number };
      };
      n += Object.values(st.soapRequests).reduce((a, b) => a + b, 0) + st.snapshotsServed;
      n += st.connectionsAccepted.http + st.connectionsAccepted.rtsp;
    }
    return n;
  };
  const servedBefore = await served();
  const readings = () => metricValue(gw.api, TEST_TOKEN, 'gatehouse_readings_total', { kind: 'barrier' });
  const readingsBefore = await readings();
  fleetSeen.clear();

  const episodes: Episode[] = [];
  const phaseStart = Date.now();
  const offline = (async () => {
    const cam = cams[OFFLINE_CAM]!;
    await afterPoll(OFFLINE_CAM);
    const setAt = Date.now();
    await cam.control('/fault', { fault: 'offline', active: true });
    const detectedAt = await until(OFFLINE_CAM, label(OFFLINE), setAt, DETECT_MS);
    await sleep(OFFLINE_MS - (Date.now() - setAt));
    const clearedAt = Date.now();
    await cam.control('/fault', { fault: 'offline', active: false });
    const recoveredAt = await until(OFFLINE_CAM, 'online', clearedAt, RECOVER_MS);
    episodes.push({
      cam: OFFLINE_CAM,
      fault: 'offline',
      expected: OFFLINE,
      setAt,
      detectedAt,
      clearedAt,
      recoveredAt,
    });
  })();
  // Camera i starts at fault i: at any moment the four cameras are in different faults.
  const cycling = cams.slice(0, OFFLINE_CAM).map(async (cam, i) => {
    for (let n = 0; n < ORDER.length || Date.now() - phaseStart < OFFLINE_MS - 10_000; n++) {
      const fault = ORDER[(i + n) % ORDER.length]!;
      const { body, ...expected } = CYCLED[fault];
      await afterPoll(i);
      const setAt = Date.now();
      await cam.control('/fault', { fault, active: true, ...body });
      const detectedAt = await until(i, label(expected), setAt, DETECT_MS);
      await sleep(HOLD_MS);
      const clearedAt = Date.now();
      await cam.control('/fault', { fault, active: false });
      const recoveredAt = await until(i, 'online', clearedAt, RECOVER_MS);
      episodes.push({ cam: i, fault, expected, setAt, detectedAt, clearedAt, recoveredAt });
    }
  });
  await Promise.all([offline, ...cycling]).catch((err: unknown) => {
    // Which camera did what, for the failure's report: each change of health with its time.
    for (const [i, samples] of timeline.entries()) {
      const changes = samples.filter((s, k) => k === 0 || samples[k - 1]!.h !== s.h);
      console.log(`cam-${i}: ${changes.map((s) => `+${s.t - phaseStart} ${s.h}`).join(', ')}`);
    }
    throw err;
  });
  const phaseMs = Date.now() - phaseStart;
  const fleetReadings = (await readings()) - readingsBefore;
  const exchanges = (await served()) - servedBefore;
  const fleetDuring = [...fleetSeen];
  await sleep(3_000);
  const heapAfter = await heapAfterGc();

  const seen = (e: Episode, from: number, to: number) => [
    ...new Set(timeline[e.cam]!.filter((s) => s.t >= from && s.t < to).map((s) => s.h)),
  ];
  const report = episodes.map((e) => ({
    cam: e.cam,
    fault: e.fault,
    expected: label(e.expected),
    detectMs: e.detectedAt - e.setAt,
    recoverMs: e.recoveredAt - e.clearedAt,
    beforeDetect: seen(e, e.setAt, e.detectedAt),
    held: seen(e, e.detectedAt, e.clearedAt),
    recovering: seen(e, e.clearedAt, e.recoveredAt),
  }));
  const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  console.log(
    `probe faults under load: ${episodes.length} episodes in ${Math.round(phaseMs / 1000)} s; ` +
      `fleet readings ${fleetReadings} (fleet health ${fleetDuring.join(',')}); ` +
      `camera exchanges ${exchanges}; heap after GC ${mb(heapBefore)} MB before, ${mb(heapAfter)} MB after\n` +
      report.map((r) => JSON.stringify(r)).join('\n'),
  );

  for (const e of [...Object.values(CYCLED), OFFLINE]) expect(HEALTH_REASONS).toContain(e.reason);
  // Every camera went through every fault; the offline camera was off the network a minute.
  for (let i = 0; i < OFFLINE_CAM; i++)
    expect(new Set(report.filter((r) => r.cam === i).map((r) => r.fault))).toEqual(new Set(ORDER));
  expect(report.filter((r) => r.fault === 'offline')).toHaveLength(1);
  for (const [k, r] of report.entries()) {
    // Until the fault showed the camera was still online; while held, the fault and
    // nothing else; on the way back online, no other reason (a check may lag a poll).
    const { reason } = episodes[k]!.expected;
    expect({
      ...r,
      beforeDetect: r.beforeDetect.filter((h) => h !== 'online'),
      recovering: r.recovering.filter((h) => h !== 'online' && !h.endsWith(`/${reason}`)),
    }).toMatchObject({ beforeDetect: [], held: [r.expected], recovering: [] });
  }
  expect(fleetDuring).toEqual(['online']);
  // The fleet publishes 100 messages/s; polled every 100 ms a device yields ~10 readings/s.
  expect(fleetReadings).toBeGreaterThan(FLEET * 5 * (phaseMs / 1000));
  expect(exchanges).toBeGreaterThan(800);
  expect(heapAfter - heapBefore).toBeLessThan(HEAP_GROWTH_MAX);
  expect(gw.proc.child.exitCode).toBeNull();
}, 150_000);
