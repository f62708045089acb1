import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../gateway/broker/passwords.ts';
import {
  barrierYaml,
  deviceWhen,
  startBarrierSim,
  startGateway,
  TEST_TOKEN,
  type GatewayProc,
} from '../helpers/gateway.ts';
import { messages, subscriber } from '../helpers/mqtt-clients.ts';
import { eventually, stopAll } from '../helpers/procs.ts';

// API tokens by hash (and by file reference), with an expiry; revoked by editing the
// config file and reloading it (the admin route, SIGHUP) while the gateway keeps polling
// and its MQTT clients stay, except those of a user that was removed.

const P = 'gatehouse/v1/testville';
// The installer's token is the helper's, so its device polls (deviceWhen) authenticate.
const INSTALLER = TEST_TOKEN;
const CREW = 'crew-token-0a1b2c3d4e5f6071';
const OLD = 'old-crew-token-99887766554433';
const NEW_CREW = 'new-crew-token-5566778899aabbcc';
const sha = (t: string) => `sha256$${createHash('sha256').update(t).digest('hex')}`;

describe('credentials: hashed, expiring, revocable without a restart', () => {
  let gw: GatewayProc;
  let modbus: number;
  let crewFile: string;
  let dashHash: string;
  const api = (p: string, token: string, method = 'GET') =>
    fetch(gw.api + p, { method, headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as Record<string, unknown>,
    }));

  const config = (tokens: string[], users: string[]) =>
    barrierYaml(
      modbus,
      `api:
  tokens:
${tokens.map((t) => `    - ${t}`).join('\n')}
broker:
  host: 127.0.0.1
  users:
${users.map((u) => `    - ${u}`).join('\n')}
`,
    );
  const TOKENS = {
    installer: `{ name: installer, role: admin, tokenHash: '${sha(INSTALLER)}' }`,
    crew: () => `{ name: crew, role: reader, token: { file: ${crewFile} } }`,
    old: `{ name: old-crew, role: reader, tokenHash: '${sha(OLD)}', expires: '2020-01-01' }`,
    newCrew: `{ name: crew-2, role: reader, tokenHash: '${sha(NEW_CREW)}', expires: '2099-12-31T00:00:00Z' }`,
  };
  const USERS = {
    admin: '{ username: admin, role: admin, password: { env: GATEHOUSE_MQTT_PASSWORD } }',
    dash: () => `{ username: dash, role: reader, passwordHash: '${dashHash}' }`,
  };

  beforeAll(async () => {
    const sim = await startBarrierSim();
    modbus = sim.modbus;
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-creds-'));
    crewFile = path.join(dir, 'crew-token');
    writeFileSync(crewFile, `${CREW}\n`);
    dashHash = await hashPassword('dash-password-1');
    gw = await startGateway(
      config([TOKENS.installer, TOKENS.crew(), TOKENS.old], [USERS.admin, USERS.dash()]),
      { secrets: [INSTALLER, CREW, OLD, NEW_CREW, 'dash-password-1'] },
    );
    await deviceWhen(gw, 'barrier-1', (d) => d.health.status === 'online', 'online', 20_000);
  });
  afterAll(stopAll);

  it('accepts a token by its hash and one by file reference, refuses an expired one and a reader reloading', async () => {
    expect((await api('/api/v1/devices', INSTALLER)).status).toBe(200);
    expect((await api('/api/v1/devices', CREW)).status).toBe(200);
    const old = await api('/api/v1/devices', OLD);
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('GH_API_TOKEN_EXPIRED');
    expect(old.body.message).toMatch(/"old-crew" expired at 2020-01-01T00:00:00\.000Z/);
    const reader = await api('/api/v1/admin/reload-credentials', CREW, 'POST');
    expect(reader.status).toBe(403);
  });

  it('revokes a token and an MQTT user at once through the admin route, leaving polling and other clients alone', async () => {
    const admin = await subscriber(
      gw.mqttPort,
      ['-u', 'admin', '-P', 'admin-pass'],
      ['-t', `${P}/barrier-1/telemetry`],
    );
    const dash = await subscriber(gw.mqttPort, ['-u', 'dash', '-P', 'dash-password-1'], ['-t', `${P}/#`]);
    writeFileSync(gw.configFile, config([TOKENS.installer, TOKENS.old], [USERS.admin]));
    const reload = await api('/api/v1/admin/reload-credentials', INSTALLER, 'POST');
    expect(reload.status).toBe(200);
    expect(reload.body).toEqual({ tokens: 2, mqttUsers: 1, disconnected: ['dash'] });
    const revoked = await api('/api/v1/devices', CREW);
    expect(revoked.status).toBe(401);
    expect(revoked.body.code).toBe('GH_API_UNAUTHORIZED');
    await dash.exited; // the removed user's client is gone
    const seen = messages(admin).length;
    await eventually(() => messages(admin).length > seen + 2, { what: 'telemetry still flowing to admin' });
    expect(admin.child.exitCode).toBeNull();
    const d = await deviceWhen(gw, 'barrier-1', () => true, 'device view');
    expect(d.health.status).toBe('online');
    await admin.stop();
  });

  it('reloads on SIGHUP, and keeps the tokens in force when the file on disk is invalid', async () => {
    writeFileSync(gw.configFile, config([TOKENS.installer, TOKENS.newCrew], [USERS.admin]));
    const reloads = gw.proc.output().split('credentials reloaded').length;
    process.kill(gw.proc.pid, 'SIGHUP');
    await eventually(() => gw.proc.output().split('credentials reloaded').length > reloads, {
      what: 'credentials reloaded after SIGHUP',
    });
    expect((await api('/api/v1/devices', NEW_CREW)).status).toBe(200);
    writeFileSync(gw.configFile, 'village: testville\napi: { tokens: [{ name: x, role: admin }] }\n');
    const bad = await api('/api/v1/admin/reload-credentials', INSTALLER, 'POST');
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('GH_CREDENTIALS_RELOAD');
    expect((await api('/api/v1/devices', NEW_CREW)).status).toBe(200);
  });
});
