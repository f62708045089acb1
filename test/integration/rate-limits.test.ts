import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  barrierYaml,
  deviceWhen,
  startBarrierSim,
  startGateway,
  TEST_TOKEN,
  type GatewayProc,
} from '../helpers/gateway.ts';
import { mosq, subscriber, messages } from '../helpers/mqtt-clients.ts';
import { eventually, stopAll } from '../helpers/procs.ts';

// Limits against a real gateway process: bad tokens and bad MQTT passwords end in 429 /
// a refused CONNECT after the configured count, a flood of commands for one barrier is
// refused at once, commands per token are bounded, bodies are bounded.

const P = 'gatehouse/v1/testville';
const FEE = 'fee-system-token-0123456789';

describe('rate limits and bounds', () => {
  let gw: GatewayProc;
  const url = (p: string) => gw.api + p;
  const command = (body: unknown, token = FEE) =>
    fetch(url('/api/v1/barriers/barrier-1/commands'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    // Slow arms, so commands for one barrier pile up behind each other.
    const sim = await startBarrierSim(['--open-ms', '1500', '--close-ms', '1500']);
    gw = await startGateway(
      barrierYaml(
        sim.modbus,
        `api:
  tokens:
    - { name: installer, role: admin, token: { env: GATEHOUSE_API_TOKEN } }
    - { name: fee-system, role: platform, token: { env: GH_TEST_FEE_TOKEN } }
  limits: { failedAuth: 3, commandsPerToken: 8, windowS: 3 }
broker:
  host: 127.0.0.1
  users:
    - { username: admin, role: admin, password: { env: GATEHOUSE_MQTT_PASSWORD } }
  limits: { failedConnects: 3, commandsPerUser: 2, windowS: 3 }
commands: { maxQueuedPerBarrier: 2, confirmTimeoutMs: 5000 }
`,
      ),
      { env: { GH_TEST_FEE_TOKEN: FEE } },
    );
    await deviceWhen(gw, 'barrier-1', (d) => d.health.status === 'online', 'online');
  });
  afterAll(stopAll);

  it('refuses a flood of commands for one barrier at once, with a reason, instead of queueing it', async () => {
    const started = Date.now();
    const answers = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        command({ requestId: `flood-${i}`, action: i % 2 ? 'close' : 'open', reason: 'flood' }),
      ),
    );
    expect(Date.now() - started).toBeLessThan(3000); // five arm movements would take 7.5 s
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([202, 202, 429, 429, 429]);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await refused.json()) as { code: string; message: string };
    expect(body.code).toBe('GH_COMMAND_QUEUE_FULL');
    expect(body.message).toMatch(/barrier "barrier-1" already has 2 commands waiting/);
  });

  it('bounds commands per token (429 with Retry-After) and the size of a body (413)', async () => {
    await new Promise((r) => setTimeout(r, 3100)); // a fresh window
    const same = { requestId: 'replayed-1', action: 'stop', reason: 'idempotent repeat' };
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await command(same)).status);
    expect(statuses.slice(0, 8).every((s) => s === 200 || s === 202)).toBe(true);
    expect(statuses[8]).toBe(429);
    const limited = await command(same);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { code: string }).code).toBe('GH_RATE_LIMITED');
    const big = await command({ requestId: 'big', action: 'open', reason: 'x'.repeat(8 * 1024) }, TEST_TOKEN);
    expect(big.status).toBe(413);
  });

  it('bounds MQTT commands per user: the next one is refused on cmd/result', async () => {
    const results = await subscriber(
      gw.mqttPort,
      ['-u', 'admin', '-P', 'admin-pass'],
      ['-t', `${P}/+/cmd/result`],
    );
    for (let i = 0; i < 3; i++) {
      const pub = await mosq('mosquitto_pub', [
        ...['-h', '127.0.0.1', '-p', String(gw.mqttPort), '-u', 'admin', '-P', 'admin-pass'],
        ...[
          '-t',
          `${P}/barrier-1/cmd`,
          '-m',
          JSON.stringify({ requestId: 'mq-1', action: 'stop', reason: 'r' }),
        ],
      ]);
      expect(pub.code).toBe(0);
    }
    await eventually(() => messages(results).some((l) => l.includes('GH_RATE_LIMITED')), {
      what: 'a rate-limited MQTT command',
    });
    await results.stop();
  });

  it('answers 429 with Retry-After after the configured number of bad tokens, even to a good one, until the window ends', async () => {
    const bad = () =>
      fetch(url('/api/v1/devices'), { headers: { authorization: 'Bearer not-a-token-at-all' } });
    for (let i = 0; i < 3; i++) expect((await bad()).status).toBe(401);
    const limited = await bad();
    expect(limited.status).toBe(429);
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(3);
    expect(((await limited.json()) as { code: string }).code).toBe('GH_RATE_LIMITED');
    expect((await gw.get('/api/v1/devices')).status).toBe(429); // a right guess is not told apart
    expect((await fetch(url('/healthz'))).status).toBe(200); // health stays reachable
    await new Promise((r) => setTimeout(r, retry * 1000 + 200));
    expect((await gw.get('/api/v1/devices')).status).toBe(200);
  });

  it('refuses MQTT logins from an address after the configured failures, backing off, then lets it in again', async () => {
    const login = (password: string) =>
      mosq('mosquitto_pub', [
        ...['-h', '127.0.0.1', '-p', String(gw.mqttPort), '-u', 'admin', '-P', password],
        ...['-t', `${P}/x/events`, '-m', '1'],
      ]);
    const started = Date.now();
    for (let i = 0; i < 3; i++)
      expect((await login('wrong-password')).out).toMatch(/bad user name or password/i);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100 + 200 + 400); // each refusal slower than the last
    const blocked = await login('admin-pass');
    expect(blocked.code).not.toBe(0);
    expect(blocked.out).toMatch(/unavailable/i);
    // The refusal is logged as the connection is refused: wait for the line rather than race it.
    await eventually(
      () => /mqtt login refused: too many failed MQTT logins from 127\.0\.0\.1/.test(gw.proc.output()),
      {
        what: 'the refusal in the gateway log',
        timeoutMs: 5_000,
      },
    );
    expect(gw.proc.output()).toMatch(/mqtt login refused: too many failed MQTT logins from 127\.0\.0\.1/);
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/gatehouse_sink_stat\{sink="mqtt-login",stat="connects_rate_limited"\} [1-9]/);
    await new Promise((r) => setTimeout(r, 3200));
    expect((await login('admin-pass')).code).toBe(0);
  });
});
