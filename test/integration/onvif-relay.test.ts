import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnvifDriver, type RelayOptions } from '../../drivers/onvif/index.ts';
import type { Driver } from '../../drivers/contract/driver.ts';
import { freePort } from '../helpers/procs.ts';
import { startProbeSim, type ProbeSim } from '../helpers/onvif-replay.ts';

const ctx = { log: pino({ level: 'silent' }), emit: () => undefined, dataDir: '/tmp' };

describe('OnvifRelayBarrierDriver vs the probe simulator relay output', () => {
  let sim: ProbeSim;
  let barrier: Driver;
  const relayDriver = (id: string, relay: RelayOptions, password = 'pw') =>
    createOnvifDriver(id, 'barrier', { url: sim.deviceUrl, username: 'gate', password, relay }, ctx);
  const relayState = async () => {
    const s = (await sim.state()) as { relay?: { logicalState?: string } };
    return s.relay?.logicalState;
  };

  beforeAll(async () => {
    sim = await startProbeSim([
      '--http',
      `127.0.0.1:${await freePort()}`,
      '--rtsp',
      `127.0.0.1:${await freePort()}`,
      '--control',
      `127.0.0.1:${await freePort()}`,
      '--user',
      'gate',
      '--password',
      'pw',
      '--no-discovery',
    ]);
    barrier = relayDriver('gate-relay', { token: 'RelayOutput_0', mode: 'bistable', pulseMs: 200 });
    await barrier.connect();
  });
  afterAll(async () => {
    await barrier?.close();
    await sim?.proc.stop();
  });

  it('reads closed while the relay is inactive', async () => {
    expect((await barrier.read()).fields).toMatchObject({ arm_state: 'closed', hold_open: false });
  });

  it('open energises the relay and the arm reads open; close releases it', async () => {
    expect(await barrier.execute({ action: 'open' })).toEqual({ action: 'open', relayActive: true });
    expect(await relayState()).toBe('active');
    expect((await barrier.read()).fields).toMatchObject({ arm_state: 'open' });
    await barrier.execute({ action: 'close' });
    expect(await relayState()).toBe('inactive');
    expect((await barrier.read()).fields).toMatchObject({ arm_state: 'closed' });
  });

  it('hold-open then release', async () => {
    await barrier.execute({ action: 'hold-open' });
    expect((await barrier.read()).fields).toMatchObject({ arm_state: 'open', hold_open: true });
    await barrier.execute({ action: 'release' });
    expect((await barrier.read()).fields).toMatchObject({ arm_state: 'closed', hold_open: false });
  });

  it('reads the relay state back from the device, not only what it commanded', async () => {
    await barrier.execute({ action: 'open' });
    await sim.control('/reboot', { downMs: 300 }); // a reboot drops the relay
    await new Promise((r) => setTimeout(r, 1200));
    expect((await barrier.read()).fields).toMatchObject({ arm_state: 'closed' });
  });

  it('monostable wiring pulses the relay for an open', async () => {
    const mono = relayDriver('gate-mono', { token: 'RelayOutput_0', mode: 'monostable', pulseMs: 150 });
    await mono.connect();
    expect(await mono.execute({ action: 'open' })).toEqual({ action: 'open', relayActive: false });
    expect(await relayState()).toBe('inactive');
    expect((await mono.read()).fields).toMatchObject({ arm_state: 'opening' });
  });

  it('goes on working when the camera clock jumps an hour after connect, and back', async () => {
    // Calls are signed with the camera clock read at connect: an hour off is far outside
    // the camera's WS-Security window, so the first refusal has the clock read again.
    await sim.control('/fault', { fault: 'clock-skew', active: true, skewS: 3600 });
    try {
      expect((await barrier.read()).fields).toMatchObject({ arm_state: 'closed' });
      expect(await barrier.execute({ action: 'open' })).toEqual({ action: 'open', relayActive: true });
      expect(await relayState()).toBe('active');
    } finally {
      await sim.control('/fault', { fault: 'clock-skew', active: false });
    }
    await barrier.execute({ action: 'close' });
    expect(await relayState()).toBe('inactive');
    expect(barrier.health()).toMatchObject({ status: 'online' });
  });

  it('refuses reset-fault, and reports a wrong relay token and wrong credentials', async () => {
    // A driver says what kind of failure it is; the gateway maps `unsupported` to GH_COMMAND_UNSUPPORTED.
    await expect(barrier.execute({ action: 'reset-fault' })).rejects.toMatchObject({ kind: 'unsupported' });
    const wrongToken = relayDriver('x', { token: 'nope', mode: 'bistable', pulseMs: 100 });
    await expect(wrongToken.read()).rejects.toMatchObject({ reason: 'bad-response' });
    const wrongPw = relayDriver('y', { token: 'RelayOutput_0', mode: 'bistable', pulseMs: 100 }, 'bad');
    await expect(wrongPw.read()).rejects.toMatchObject({ reason: 'auth-failed' });
    expect(wrongPw.health()).toMatchObject({ status: 'offline', reason: 'auth-failed' });
  });
});
