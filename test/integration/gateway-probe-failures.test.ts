import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, stopAll } from '../helpers/procs.ts';
import { startGateway, TEST_TOKEN, type GatewayProc } from '../helpers/gateway.ts';
import { startProbeSim, type ProbeSim } from '../helpers/onvif-replay.ts';

interface Failure {
  statusCode: number;
  code: string;
  reason?: string;
  message: string;
}

// A gateway process with one probe, the simulator starting as a camera without imaging;
// then the snapshot route against each way a camera's snapshot URL fails.
describe('probe failures through the gateway: features in the device view, snapshot errors with reasons', () => {
  let gw: GatewayProc;
  let sim: ProbeSim;

  beforeAll(async () => {
    sim = await startProbeSim([
      '--http',
      `127.0.0.1:${await freePort()}`,
      '--control',
      `127.0.0.1:${await freePort()}`,
      '--user',
      'admin',
      '--password',
      'pw',
      '--no-discovery',
      '--fault',
      'imaging-unsupported',
    ]);
    gw = await startGateway(
      `village: testville
devices:
  - id: cam-1
    kind: probe
    driver: onvif
    url: ${sim.deviceUrl}
    username: admin
    password: { env: GH_TEST_CAM_PW }
    pollMs: 1000
    timeoutMs: 1000
`,
      { env: { GH_TEST_CAM_PW: 'pw' } },
    );
  });
  afterAll(async () => {
    await stopAll();
  });

  const snapshot = async () => {
    const r = await fetch(`${gw.api}/api/v1/probes/cam-1/snapshot`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    return {
      status: r.status,
      type: r.headers.get('content-type'),
      body: Buffer.from(await r.arrayBuffer()),
    };
  };

  it('shows a camera without imaging online, imaging unsupported per feature and per check', async () => {
    const view = await eventually(
      async () => {
        const d = (await gw.get('/api/v1/devices/cam-1')).body as {
          health: { status: string; checks?: Record<string, { status: string }> };
          features?: Record<string, string>;
          info?: Record<string, string>;
        };
        return d.health.status === 'online' && d.features?.events === 'ok' ? d : undefined;
      },
      { what: 'cam-1 online with its features known', timeoutMs: 30_000 },
    );
    expect(view.features).toEqual({
      imaging: 'unsupported',
      events: 'ok',
      snapshot: 'ok',
      stream: 'ok',
      'relay-outputs': 'ok',
    });
    expect(view.info).toMatchObject({ model: expect.any(String), firmware: expect.any(String) });
    expect(view.health.checks).toMatchObject({
      clock: { status: 'ok' },
      imaging: { status: 'unsupported' },
      snapshot: { status: 'ok' },
    });
    const shot = await snapshot();
    expect(shot.status).toBe(200);
    expect(shot.type).toBe('image/jpeg');
  });

  const cases: [string, number, string, string, RegExp, Record<string, unknown>?][] = [
    [
      'snapshot-404',
      502,
      'GH_DEVICE_FAILED',
      'bad-response',
      /answered HTTP 404 for its snapshot URL; check the snapshot profile/,
    ],
    [
      'snapshot-garbage',
      502,
      'GH_DEVICE_FAILED',
      'bad-response',
      /snapshot URL answered something that is not a JPEG \(image\/jpeg, 45 bytes/,
    ],
    [
      'wrong-password',
      502,
      'GH_DEVICE_FAILED',
      'auth-failed',
      /refused the credentials for its snapshot URL \(HTTP 401\); check the username and password/,
    ],
    [
      'slow',
      504,
      'GH_DEVICE_TIMEOUT',
      'timeout',
      /did not answer its snapshot URL \(127\.0\.0\.1:\d+\) within 1000 ms; check power and network/,
      { delayMs: 2500 },
    ],
    [
      'offline',
      502,
      'GH_DEVICE_FAILED',
      'connection-refused',
      /refused the connection to its snapshot URL \(127\.0\.0\.1:\d+\)/,
    ],
  ];
  it.each(cases)(
    '%s: %i %s (%s), the message names the cause',
    async (fault, status, code, reason, words, extra = {}) => {
      await sim.control('/fault', { fault, active: true, ...extra });
      // The gateway may hold a picture from the last poll for a poll interval: wait it out.
      const failed = await eventually(
        async () => {
          const r = await snapshot();
          return r.status === 200 ? undefined : r;
        },
        { what: `snapshot fails under ${fault}`, timeoutMs: 15_000 },
      );
      const body = JSON.parse(failed.body.toString()) as Failure;
      expect({ status: failed.status, code: body.code, reason: body.reason }).toEqual({
        status,
        code,
        reason,
      });
      expect(body.statusCode).toBe(status);
      expect(body.message).toMatch(/^device "cam-1" /);
      expect(body.message).toMatch(words);
      await sim.control('/fault', { fault, active: false });
      await eventually(async () => (await snapshot()).status === 200, {
        what: `snapshot back after ${fault}`,
        timeoutMs: 20_000,
      });
    },
  );
});
