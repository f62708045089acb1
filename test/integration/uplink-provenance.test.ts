import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import {
  barrierYaml,
  deviceWhen,
  startBarrierSim,
  startGateway,
  type GatewayProc,
} from '../helpers/gateway.ts';
import { mosq, messages, subscriber } from '../helpers/mqtt-clients.ts';
import { eventually, stopAll } from '../helpers/procs.ts';

// Commands from the town broker through the uplink: the audit names the uplink as the
// authenticated sender and the platform's actor as stated, or as verified when the
// command carries an HMAC with the village key; a wrong HMAC is refused. The HMAC is
// computed here with openssl from the README's recipe, not with the gateway's code.

const P = 'gatehouse/v1/testville';
const KEY = 'village-uplink-key-4f2a9d7c1e';

function hmac(topic: string, c: Record<string, string | number | undefined>, issuedAt: string): string {
  const text = [
    'gatehouse-cmd-v1',
    topic,
    c.requestId,
    c.action,
    c.holdSeconds ?? '',
    c.actor ?? '',
    issuedAt,
    c.reason,
  ].join('\n');
  const out = execFileSync('openssl', ['dgst', '-sha256', '-hmac', KEY], { input: text, encoding: 'utf8' });
  return out.trim().split(' ').pop()!;
}

describe('who sent a command that came through the uplink', () => {
  let central: Mosquitto;
  let gw: GatewayProc;
  let sim: Awaited<ReturnType<typeof startBarrierSim>>;
  const TOWN = () => ['-h', '127.0.0.1', '-p', String(central.port), '-u', 'town', '-P', 'town-pw'];
  const audit = () =>
    readFileSync(path.join(gw.dataDir, 'audit', 'commands.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { requestId: string; actor: string; origin?: Record<string, unknown> });

  beforeAll(async () => {
    central = await startMosquitto({
      users: [
        { username: 'village-testville', password: 'uplink-pw' },
        { username: 'town', password: 'town-pw' },
      ],
      acl: ['user village-testville', `topic readwrite ${P}/#`, 'user town', 'topic readwrite gatehouse/#'],
    });
    sim = await startBarrierSim(['--open-ms', '300', '--close-ms', '300']);
    gw = await startGateway(
      barrierYaml(
        sim.modbus,
        `broker:
  host: 127.0.0.1
  users:
    - { username: admin, role: admin, password: { env: GATEHOUSE_MQTT_PASSWORD } }
    - { username: kiosk, role: platform, password: { env: GH_TEST_KIOSK_PW } }
bridge:
  url: mqtt://127.0.0.1:${central.port}
  clientId: gatehouse-testville
  username: village-testville
  password: { env: GH_TEST_UPLINK_PW }
  commandKey: { env: GH_TEST_COMMAND_KEY }
  forward: ['${P}/+/cmd/result']
  subscribe: ['${P}/+/cmd']
`,
      ),
      {
        env: { GH_TEST_UPLINK_PW: 'uplink-pw', GH_TEST_COMMAND_KEY: KEY, GH_TEST_KIOSK_PW: 'kiosk-password' },
      },
    );
    await deviceWhen(gw, 'barrier-1', (d) => d.health.status === 'online', 'online');
    await eventually(
      async () => ((await gw.get('/readyz')).body.checks as Record<string, string>).bridge === 'connected',
      {
        what: 'uplink connected',
      },
    );
  });
  afterAll(async () => {
    await stopAll();
    await central?.dispose();
  });

  const publishUpstream = async (body: Record<string, unknown>) => {
    const pub = await mosq('mosquitto_pub', [
      ...TOWN(),
      '-q',
      '1',
      '-t',
      `${P}/barrier-1/cmd`,
      '-m',
      JSON.stringify(body),
    ]);
    expect(pub.code).toBe(0);
  };

  it('audits a signed command as bridge:<uplink> for the town-side actor, verified by HMAC', async () => {
    const results = await subscriber(
      central.port,
      ['-u', 'town', '-P', 'town-pw'],
      ['-t', `${P}/barrier-1/cmd/result`],
    );
    const cmd = {
      requestId: 'town-signed-1',
      action: 'open',
      reason: 'ticket 4711 paid',
      actor: 'fee-desk-3',
    };
    const issuedAt = new Date().toISOString();
    await publishUpstream({ ...cmd, issuedAt, hmac: hmac(`${P}/barrier-1/cmd`, cmd, issuedAt) });
    await eventually(() => messages(results).some((l) => l.includes('"state":"confirmed"')), {
      what: 'confirmed result upstream',
    });
    const first = JSON.parse(messages(results)[0]!.slice(messages(results)[0]!.indexOf(' ') + 1)) as Record<
      string,
      unknown
    >;
    expect(first.actor).toBe('mqtt:bridge:gatehouse-testville');
    expect(first.origin).toEqual({ actor: 'fee-desk-3', requestId: 'town-signed-1', trust: 'hmac-verified' });
    const lines = audit().filter((e) => e.requestId === 'town-signed-1');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const e of lines) {
      expect(e.actor).toBe('mqtt:bridge:gatehouse-testville');
      expect(e.origin).toEqual({ actor: 'fee-desk-3', requestId: 'town-signed-1', trust: 'hmac-verified' });
    }
    expect(gw.proc.output()).toMatch(/by mqtt:bridge:gatehouse-testville for fee-desk-3 \(hmac-verified\)/);
    await results.stop();
  });

  it('refuses a command whose HMAC does not fit, and one without any, before anything is written', async () => {
    const results = await subscriber(
      central.port,
      ['-u', 'town', '-P', 'town-pw'],
      ['-t', `${P}/barrier-1/cmd/result`],
    );
    const cmd = { requestId: 'town-forged-1', action: 'open', reason: 'forged', actor: 'fee-desk-3' };
    const issuedAt = new Date().toISOString();
    const good = hmac(`${P}/barrier-1/cmd`, cmd, issuedAt);
    await publishUpstream({ ...cmd, reason: 'changed on the way', issuedAt, hmac: good });
    await publishUpstream({ requestId: 'town-unsigned-1', action: 'open', reason: 'no signature' });
    await eventually(() => messages(results).filter((l) => l.includes('GH_COMMAND_SIGNATURE')).length === 2, {
      what: 'two refusals upstream',
    });
    const refusals = messages(results).map(
      (l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as { requestId: string; error: { message: string } },
    );
    expect(refusals.find((r) => r.requestId === 'town-forged-1')!.error.message).toMatch(
      /hmac does not match/,
    );
    expect(refusals.find((r) => r.requestId === 'town-unsigned-1')!.error.message).toMatch(
      /requires signed commands/,
    );
    expect(audit().some((e) => e.requestId === 'town-forged-1' || e.requestId === 'town-unsigned-1')).toBe(
      false,
    );
    await results.stop();
  });

  it('marks an actor stated by a local platform user as stated, beside the authenticated user', async () => {
    const pub = await mosq('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', String(gw.mqttPort), '-u', 'kiosk', '-P', 'kiosk-password'],
      ...[
        '-t',
        `${P}/barrier-1/cmd`,
        '-m',
        JSON.stringify({ requestId: 'kiosk-1', action: 'close', reason: 'r', actor: 'attendant-2' }),
      ],
    ]);
    expect(pub.code).toBe(0);
    await eventually(() => audit().some((e) => e.requestId === 'kiosk-1'), { what: 'kiosk command audited' });
    const e = audit().find((x) => x.requestId === 'kiosk-1')!;
    expect(e.actor).toBe('mqtt:kiosk');
    expect(e.origin).toEqual({ actor: 'attendant-2', requestId: 'kiosk-1', trust: 'stated' });
  });
});
