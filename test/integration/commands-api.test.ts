import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, stopAll } from '../helpers/procs.ts';
import {
  barrierYaml,
  deviceWhen,
  simControl,
  startBarrierSim,
  startGateway,
  type GatewayProc,
} from '../helpers/gateway.ts';

type Rec = { id: string; state: string; failure?: string; history: { state: string }[]; requestId: string };
type SimState = {
  units: Record<
    string,
    { arm_state: string; faultCode?: number; commands: { action: string; accepted: boolean }[] }
  >;
};

const READER = 'reader-token-123';

describe('gate commands through the API against a real controller simulator', () => {
  let sim: Awaited<ReturnType<typeof startBarrierSim>>;
  let gw: GatewayProc;

  beforeAll(async () => {
    sim = await startBarrierSim(['--open-ms', '300', '--close-ms', '300', '--traffic', 'off']);
    const yaml = barrierYaml(
      sim.modbus,
      `api:
  tokens:
    - { name: installer, role: admin, token: { env: GATEHOUSE_API_TOKEN } }
    - { name: fee-system, role: platform, token: { env: GH_TEST_PLATFORM_TOKEN } }
    - { name: crew, role: reader, token: { env: GH_TEST_READER_TOKEN } }
commands:
  confirmTimeoutMs: 2000
`,
    );
    gw = await startGateway(yaml, {
      env: { GH_TEST_PLATFORM_TOKEN: 'platform-token-123', GH_TEST_READER_TOKEN: READER },
    });
    await deviceWhen(gw, 'barrier-1', (d) => d.health.status === 'online', 'online');
  });
  afterAll(stopAll);

  const command = async (body: Record<string, unknown>, token = 'platform-token-123') =>
    gw.post('/api/v1/barriers/barrier-1/commands?waitMs=5000', body, token);
  const simCommands = async () =>
    ((await simControl(sim.control, '/state')) as SimState).units['1']!.commands;

  it('opens the arm and confirms it from sensed state', async () => {
    const r = await command({ requestId: 'pay-1001', action: 'open', reason: 'ticket paid' });
    expect(r.status).toBe(200);
    const rec = r.body as unknown as Rec;
    expect(rec.state).toBe('confirmed');
    expect(rec.history.map((h) => h.state)).toEqual(['accepted', 'executing', 'confirmed']);
    expect(((await simControl(sim.control, '/state')) as SimState).units['1']!.arm_state).toBe('open');
    const fetched = await gw.get(`/api/v1/commands/${rec.id}`);
    expect(fetched.body).toMatchObject({ id: rec.id, actor: 'api:fee-system', reason: 'ticket paid' });
  });

  it('never actuates twice for a repeated requestId', async () => {
    const before = (await simCommands()).length;
    const again = await command({
      requestId: 'pay-1001',
      action: 'open',
      reason: 'retry after network error',
    });
    expect(again.status).toBe(200);
    expect((again.body as unknown as Rec).state).toBe('confirmed');
    expect((await simCommands()).length).toBe(before);
    const clash = await command({ requestId: 'pay-1001', action: 'close', reason: 'reuse' });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('GH_COMMAND_CONFLICT');
  });

  it('refuses to close on an occupied loop, without writing to the controller', async () => {
    await simControl(sim.control, '/traffic', { unit: 1, arrive: 'in' });
    await deviceWhen(gw, 'barrier-1', (d) => d.fields.loop_occupied === true, 'loop occupied');
    const before = (await simCommands()).length;
    const r = await command({ requestId: 'close-2001', action: 'close', reason: 'end of day' });
    expect((r.body as unknown as Rec).state).toBe('failed');
    expect((r.body as unknown as Rec).failure).toBe('interlock:loop-occupied');
    expect((await simCommands()).length).toBe(before);
  });

  it('refuses to actuate a barrier in fault, and resets the fault once it clears', async () => {
    await simControl(sim.control, '/fault', { unit: 1, fault: 'motor-overcurrent', active: true });
    await deviceWhen(gw, 'barrier-1', (d) => d.health.reason === 'barrier-fault:1', 'barrier-fault:1 health');
    const r = await command({ requestId: 'open-3001', action: 'open', reason: 'paid' });
    expect((r.body as unknown as Rec).failure).toBe('interlock:barrier-fault:1');
    const stuck = await command({ requestId: 'reset-3002', action: 'reset-fault', reason: 'crew on site' });
    expect((stuck.body as unknown as Rec).state).toBe('failed');
    // northgate-hr echoes the sequence of accepted commands: a refusal is seen at once.
    expect((stuck.body as unknown as Rec).failure).toBe('rejected-by-controller');
    await simControl(sim.control, '/fault', { unit: 1, fault: 'motor-overcurrent', active: false });
    const reset = await command({ requestId: 'reset-3003', action: 'reset-fault', reason: 'motor replaced' });
    expect((reset.body as unknown as Rec).state).toBe('confirmed');
  });

  it('answers a bad body with 400 naming the field and what to fix', async () => {
    const noReason = await command({ requestId: 'x-1', action: 'open' });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toMatchObject({ code: 'GH_API_BAD_REQUEST', message: 'body.reason is required' });
    const badAction = await command({ requestId: 'x-2', action: 'jump', reason: 'r' });
    expect(badAction.status).toBe(400);
    expect(badAction.body.message).toBe(
      'body.action must be one of open, close, hold-open, release, stop, reset-fault',
    );
    const extra = await command({ requestId: 'x-3', action: 'open', reason: 'r', plate: 'AB-123' });
    expect(extra.body.message).toBe('body.plate is not a known field (remove it)');
  });

  it('404s an unknown barrier and 403s a reader token', async () => {
    const r = await gw.post(
      '/api/v1/barriers/nope/commands',
      { requestId: 'n-1', action: 'open', reason: 'r' },
      'platform-token-123',
    );
    expect(r.status).toBe(404);
    expect(r.body.message).toBe('no device with id "nope"');
    const reader = await command({ requestId: 'n-2', action: 'open', reason: 'r' }, READER);
    expect(reader.status).toBe(403);
    expect(reader.body.message).toBe('token "crew" has role reader; this needs platform');
  });

  it('lets the waiting car through: a passage event and the site occupancy follow', async () => {
    const r = await command({ requestId: 'pay-4001', action: 'open', reason: 'ticket paid' });
    expect((r.body as unknown as Rec).state).toBe('confirmed');
    const d = await deviceWhen(
      gw,
      'barrier-1',
      (x) => x.recentEvents.some((e) => e.type === 'passage-in'),
      'passage-in event',
    );
    expect(d.recentEvents.find((e) => e.type === 'passage-in')).toBeTruthy();
    const sites = await eventually(
      async () => {
        const s = (await gw.get('/api/v1/sites')).body as {
          sites: { site: string; occupancy: number; entries: number }[];
        };
        return s.sites[0]?.entries === 1 ? s : undefined;
      },
      { what: 'one entry counted' },
    );
    expect(sites.sites[0]).toMatchObject({ site: 'north-lot', occupancy: 1, barriers: ['barrier-1'] });
    const set = await fetch(`${gw.api}/api/v1/sites/north-lot/occupancy`, {
      method: 'PUT',
      headers: { authorization: 'Bearer platform-token-123', 'content-type': 'application/json' },
      body: JSON.stringify({ occupancy: 42 }),
    });
    expect(set.status).toBe(200);
    expect(((await set.json()) as { occupancy: number }).occupancy).toBe(42);
  });

  it('releases a timed hold by itself, as its own audited command', async () => {
    const r = await command({
      requestId: 'hold-5001',
      action: 'hold-open',
      reason: 'delivery truck',
      holdSeconds: 1,
    });
    expect((r.body as unknown as Rec).state).toBe('confirmed');
    const list = await eventually(
      async () => {
        const l = (await gw.get('/api/v1/commands')).body as {
          commands: (Rec & { actor: string; action: string })[];
        };
        const rel = l.commands.find((c) => c.requestId === 'hold-5001:release');
        return rel?.state === 'confirmed' ? rel : undefined;
      },
      { what: 'automatic release confirmed' },
    );
    expect(list).toMatchObject({ action: 'release', actor: 'gateway' });
  });

  it('keeps an append-only audit of every command and state', async () => {
    const lines = readFileSync(path.join(gw.dataDir, 'audit', 'commands.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { requestId: string; state: string; actor: string });
    const of = (id: string) => lines.filter((l) => l.requestId === id).map((l) => l.state);
    expect(of('pay-1001')).toEqual(['accepted', 'executing', 'confirmed']);
    expect(of('close-2001')).toEqual(['accepted', 'failed']);
    expect(
      lines.filter((l) => !l.requestId.endsWith(':release')).every((l) => l.actor === 'api:fee-system'),
    ).toBe(true);
  });
});
