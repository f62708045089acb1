import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnvifDriver, type OnvifProbeDriver } from '../../drivers/onvif/index.ts';
import { PULL_FLOOR_MS } from '../../drivers/onvif/events.ts';
import { eventually, freePort } from '../helpers/procs.ts';
import { startProbeSim, type ProbeSim } from '../helpers/onvif-replay.ts';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RUN_MS = 6000;

interface SimCounters {
  connectionsAccepted: { http: number; rtsp: number };
  soapRequests: Record<string, number>;
}

// The real probe driver, in this process, against a simulated camera whose PullMessages
// never waits: what the driver costs is this process's CPU time; what it costs the camera
// is the pulls and TCP connections the simulator counted.
describe('pull loop pacing against cameras that answer PullMessages at once', () => {
  let sim: ProbeSim;
  let driver: OnvifProbeDriver;
  let events = 0;

  beforeAll(async () => {
    sim = await startProbeSim([
      '--http',
      `127.0.0.1:${await freePort()}`,
      '--control',
      `127.0.0.1:${await freePort()}`,
      '--user',
      'admin',
      '--password',
      'secret',
      '--no-discovery',
    ]);
    driver = createOnvifDriver(
      'probe-pace',
      'probe',
      { url: sim.deviceUrl, username: 'admin', password: 'secret', timeoutMs: 2000, eventPullS: 5 },
      { log, emit: () => events++, dataDir: '/tmp' },
    ) as OnvifProbeDriver;
    await eventually(() => driver.connect().then(() => true), { timeoutMs: 30_000, what: 'connected' });
    await eventually(() => driver.eventStats().pulls > 0, { what: 'first pull' });
  });

  afterAll(async () => {
    await driver?.close();
    await sim?.proc.stop();
  });

  /** A poll every second, as a gateway with pollMs 1000 does. */
  async function pollFor(ms: number) {
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      const tick = performance.now();
      await driver.read().catch(() => undefined);
      await sleep(1000 - (performance.now() - tick));
    }
  }

  /**
   * RUN_MS of a 1 s poll with the fault on, after 2 s of it to let the JIT settle: this
   * process's CPU share, and the pulls and connections the camera saw.
   */
  async function run(fault: string) {
    await sim.control('/fault', { fault, active: true });
    await pollFor(2000);
    const before = (await sim.state()) as unknown as SimCounters;
    const events0 = events;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await pollFor(RUN_MS);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    const after = (await sim.state()) as unknown as SimCounters;
    await sim.control('/fault', { fault, active: false });
    const delta = (k: string) => (after.soapRequests[k] ?? 0) - (before.soapRequests[k] ?? 0);
    const figures = {
      fault,
      seconds: Math.round(wallMs / 100) / 10,
      cpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
      pulls: delta('PullMessages'),
      creates: delta('CreatePullPointSubscription'),
      httpConnections: after.connectionsAccepted.http - before.connectionsAccepted.http,
      httpConnectionsSinceStart: after.connectionsAccepted.http,
      rtspConnections: after.connectionsAccepted.rtsp - before.connectionsAccepted.rtsp,
      events: events - events0,
    };
    console.log(`pacing ${JSON.stringify(figures)}`);
    return { ...figures, wallMs };
  }

  it('pull-immediate: empty answers that ignore Timeout cost next to nothing', async () => {
    const f = await run('pull-immediate');
    expect(f.cpuPercentOfOneCore).toBeLessThan(10);
    expect(f.pulls).toBeGreaterThanOrEqual(3); // still listening for events
    expect(f.pulls).toBeLessThanOrEqual(f.wallMs / PULL_FLOOR_MS + 3);
    expect(f.creates).toBe(0); // no subscription churn
    expect(f.httpConnections).toBeLessThanOrEqual(4); // kept alive: pull socket + two for checks
    expect(f.httpConnectionsSinceStart).toBeLessThanOrEqual(8); // discovery and warm-up included
    expect(f.rtspConnections).toBeLessThanOrEqual(Math.ceil(f.wallMs / 1000) + 1); // one DESCRIBE a poll
  });

  it('event-backlog: a camera that always has messages is drained at the floor, not faster', async () => {
    const f = await run('event-backlog');
    expect(f.cpuPercentOfOneCore).toBeLessThan(10);
    expect(f.pulls).toBeLessThanOrEqual(f.wallMs / PULL_FLOOR_MS + 3);
    expect(f.pulls).toBeGreaterThan(f.wallMs / PULL_FLOOR_MS / 2); // and it keeps up
    expect(f.events).toBeGreaterThanOrEqual(f.pulls * 16); // 32 a pull, motion flapping
    expect(f.creates).toBe(0);
    expect(f.httpConnections).toBeLessThanOrEqual(4);
    expect(f.httpConnectionsSinceStart).toBeLessThanOrEqual(8);
  });
});
