import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/procs.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { mosq } from '../helpers/mqtt-clients.ts';
import {
  barrierYaml,
  deviceWhen,
  startBarrierSim,
  startGateway,
  type GatewayProc,
} from '../helpers/gateway.ts';

// The town's central broker is a real Debian mosquitto; the town's side is played by
// the independent mosquitto_sub / mosquitto_pub clients.
const P = 'gatehouse/v1/testville';

const TOWN = (port: number) => ['-h', '127.0.0.1', '-p', String(port), '-u', 'town', '-P', 'town-pw'];

async function sub(port: number, topic: string, count: number): Promise<string[]> {
  const r = await mosq(
    'mosquitto_sub',
    [...TOWN(port), '-t', topic, '-C', String(count), '-W', '20', '-v'],
    30_000,
  );
  if (r.code !== 0) throw new Error(`mosquitto_sub ${r.code}: ${r.out}`);
  return r.out.trim().split('\n');
}

describe('uplink to the town broker', () => {
  let central: Mosquitto;
  let gw: GatewayProc;

  beforeAll(async () => {
    central = await startMosquitto({
      users: [
        { username: 'village-testville', password: 'uplink-pw' },
        { username: 'town', password: 'town-pw' },
      ],
      acl: ['user village-testville', `topic readwrite ${P}/#`, 'user town', 'topic readwrite gatehouse/#'],
    });
    const sim = await startBarrierSim(['--open-ms', '300', '--close-ms', '300', '--traffic', 'off']);
    gw = await startGateway(
      barrierYaml(
        sim.modbus,
        `bridge:
  url: mqtt://127.0.0.1:${central.port}
  clientId: gatehouse-testville
  username: village-testville
  password: { env: GH_TEST_UPLINK_PW }
  forward: ['${P}/+/state', '${P}/+/cmd/result', '${P}/+/events']
  subscribe: ['${P}/+/cmd']
`,
      ),
      { env: { GH_TEST_UPLINK_PW: 'uplink-pw' } },
    );
  });
  afterAll(async () => {
    await stopAll();
    await central?.dispose();
  });

  it('forwards device state to the town broker', async () => {
    const lines = await sub(central.port, `${P}/barrier-1/state`, 1);
    const state = JSON.parse(lines[0]!.slice(lines[0]!.indexOf(' ') + 1)) as {
      device: string;
      fields: object;
    };
    expect(state.device).toBe('barrier-1');
  });

  it('takes a gate command from the town broker and returns its result there', async () => {
    const results = sub(central.port, `${P}/barrier-1/cmd/result`, 3);
    await new Promise((r) => setTimeout(r, 500)); // let the subscriber settle before publishing
    const pub = await mosq('mosquitto_pub', [
      ...TOWN(central.port),
      '-q',
      '1',
      '-t',
      `${P}/barrier-1/cmd`,
      '-m',
      JSON.stringify({ requestId: 'town-1', action: 'open', reason: 'town override' }),
    ]);
    expect(pub.code).toBe(0);
    const states = (await results).map(
      (l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as { state: string; actor: string },
    );
    expect(states.map((s) => s.state)).toEqual(['accepted', 'executing', 'confirmed']);
    expect(states[0]!.actor).toMatch(/^mqtt:bridge:gatehouse-testville/);
    const dev = await deviceWhen(gw, 'barrier-1', (d) => d.fields.arm_state === 'open', 'arm open');
    expect(dev.fields.arm_state).toBe('open');
    const ready = (await (await fetch(`${gw.api}/readyz`)).json()) as { checks: Record<string, string> };
    expect(ready.checks.bridge).toBe('connected');
  });
});
