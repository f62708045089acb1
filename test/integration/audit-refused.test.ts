import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stopAll } from '../helpers/procs.ts';
import { barrierYaml, deviceWhen, simControl, startBarrierSim, startGateway } from '../helpers/gateway.ts';

// A gate is never moved without its record on disk. The audit log here is the kernel's
// /dev/full (every write answers ENOSPC): a command is refused with a code that says so,
// and the controller simulator sees no write; polling and the API go on.
afterAll(stopAll);

it('refuses a gate command whose audit line the disk refuses, and writes nothing to the barrier', async () => {
  const sim = await startBarrierSim(['--open-ms', '300', '--close-ms', '300', '--traffic', 'off']);
  const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'gh-audit-full-')), 'data');
  const gw = await startGateway(barrierYaml(sim.modbus), { dataDir });
  await deviceWhen(gw, 'barrier-1', (d) => d.health.status === 'online', 'online');
  // The log opens its file at the first command (read back at start, so not before: a read
  // of /dev/full never ends).
  mkdirSync(path.join(dataDir, 'audit'), { recursive: true });
  symlinkSync('/dev/full', path.join(dataDir, 'audit', 'commands.jsonl'));

  const r = await gw.post('/api/v1/barriers/barrier-1/commands?waitMs=3000', {
    requestId: 'pay-full-1',
    action: 'open',
    reason: 'ticket paid',
  });
  expect(r.status, JSON.stringify(r.body)).toBe(503);
  expect(r.body.code).toBe('GH_COMMAND_NOT_RECORDED');
  expect(String(r.body.message)).toMatch(/ENOSPC/);
  expect(String(r.body.message)).toMatch(/nothing was actuated/);

  // Give a write the time it would have taken, then look at what the controller received.
  await new Promise((res) => setTimeout(res, 1000));
  const state = (await simControl(sim.control, '/state')) as {
    units: Record<string, { arm_state: string; commands: unknown[] }>;
  };
  expect(state.units['1']!.commands).toEqual([]);
  expect(state.units['1']!.arm_state).toBe('closed');
  // The gateway itself carries on.
  expect((await gw.get('/api/v1/devices/barrier-1')).body.health).toMatchObject({ status: 'online' });
});
