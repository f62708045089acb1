import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, servedSerial, type TestCerts } from '../helpers/certs.ts';
import { startGateway, TEST_TOKEN, type GatewayProc } from '../helpers/gateway.ts';
import { messages, mosq, subscriber } from '../helpers/mqtt-clients.ts';
import { eventually, freePort, stopAll } from '../helpers/procs.ts';

// A gateway process serving HTTPS, MQTT over TLS and secure WebSocket from certificate
// files made here with openssl; every client is a real one (curl, mosquitto_sub,
// mqtt.js), and a wrong CA is refused.

const V = 'tlsville';
const P = `gatehouse/v1/${V}`;

function curl(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

describe('TLS on every listener', () => {
  let certs: TestCerts;
  let gw: GatewayProc;
  let apiPort: number;
  let tlsPort: number;
  let wssPort: number;
  const admin = () => ['-u', 'admin', '-P', 'admin-pass'];
  const mqtts = (ca: string) => ['-h', '127.0.0.1', '-p', String(tlsPort), '--cafile', ca];

  beforeAll(async () => {
    certs = makeCerts({ clientCn: 'crew-phone' });
    [apiPort, tlsPort, wssPort] = [await freePort(), await freePort(), await freePort()];
    const yaml = `village: ${V}
api:
  tls: { cert: ${certs.server.cert}, key: ${certs.server.key} }
broker:
  host: 127.0.0.1
  users:
    - { username: admin, role: admin, password: { env: GATEHOUSE_MQTT_PASSWORD } }
    - { username: crew-phone, role: reader }
  tls:
    port: ${tlsPort}
    wsPort: ${wssPort}
    cert: ${certs.server.cert}
    key: ${certs.server.key}
    ca: ${certs.ca}
    clientCerts: optional
`;
    gw = await startGateway(yaml, { apiPort });
  });
  afterAll(stopAll);

  it('serves the API over HTTPS to curl trusting our CA, with security headers, and refuses a wrong CA', async () => {
    const ok = await curl(['--cacert', certs.ca, '-i', `https://127.0.0.1:${apiPort}/healthz`]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^HTTP\/1\.1 200/m);
    expect(ok.out).toMatch(/^strict-transport-security: max-age=/im);
    expect(ok.out).toMatch(/^content-security-policy: default-src 'self'/im);
    const devices = await curl([
      '--cacert',
      certs.ca,
      '-H',
      `Authorization: Bearer ${TEST_TOKEN}`,
      `https://localhost:${apiPort}/api/v1/devices`,
    ]);
    expect(devices.code).toBe(0);
    expect(JSON.parse(devices.out)).toHaveProperty('devices');
    const wrong = await curl(['--cacert', certs.wrongCa, `https://127.0.0.1:${apiPort}/healthz`]);
    expect(wrong.code).toBe(60); // curl: peer certificate cannot be authenticated with given CA certificates
  });

  it('serves MQTT over TLS to mosquitto_sub with --cafile, and a wrong CA is refused', async () => {
    const ok = await mosq('mosquitto_sub', [
      ...mqtts(certs.ca),
      ...admin(),
      '-t',
      `${P}/gateway/status`,
      '-C',
      '1',
      '-W',
      '10',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.out.trim()).toBe('online');
    const wrong = await mosq('mosquitto_sub', [
      ...mqtts(certs.wrongCa),
      ...admin(),
      '-t',
      `${P}/gateway/status`,
      '-C',
      '1',
      '-W',
      '5',
    ]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toMatch(/certificate verify failed|protocol error|Error/i);
  });

  it('signs a device in by its client certificate (CN = user), and refuses one from another CA', async () => {
    const byCert = await mosq('mosquitto_sub', [
      ...mqtts(certs.ca),
      '--cert',
      certs.client.cert,
      '--key',
      certs.client.key,
      '-t',
      `${P}/gateway/status`,
      '-C',
      '1',
      '-W',
      '10',
    ]);
    expect(byCert.code).toBe(0);
    expect(byCert.out.trim()).toBe('online');
    const foreign = await mosq('mosquitto_sub', [
      ...mqtts(certs.ca),
      '--cert',
      certs.wrongClient.cert,
      '--key',
      certs.wrongClient.key,
      '-t',
      `${P}/gateway/status`,
      '-C',
      '1',
      '-W',
      '5',
    ]);
    expect(foreign.code).not.toBe(0);
    expect(foreign.out).toMatch(/not authori[sz]ed/i);
  });

  it('serves MQTT over secure WebSocket, on the API port and on its own port', async () => {
    for (const url of [`wss://127.0.0.1:${apiPort}/mqtt`, `wss://127.0.0.1:${wssPort}/mqtt`]) {
      const client = await mqtt.connectAsync(url, {
        ca: readFileSync(certs.ca),
        username: 'admin',
        password: 'admin-pass',
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      const got = new Promise<string>((resolve) => client.once('message', (_t, p) => resolve(p.toString())));
      await client.subscribeAsync(`${P}/gateway/status`, { qos: 1 });
      expect(await got).toBe('online');
      await client.endAsync();
    }
    await expect(
      mqtt.connectAsync(`wss://127.0.0.1:${apiPort}/mqtt`, {
        ca: readFileSync(certs.wrongCa),
        username: 'admin',
        password: 'admin-pass',
        reconnectPeriod: 0,
        connectTimeout: 5000,
      }),
    ).rejects.toThrow();
  });

  it('takes a renewed certificate on SIGHUP without dropping a connected device', async () => {
    const sub = await subscriber(tlsPort, ['--cafile', certs.ca, ...admin()], ['-t', `${P}/probe-9/events`]);
    const before = servedSerial(tlsPort, certs.ca);
    const renewed = certs.renewServer();
    expect(renewed).not.toBe(before);
    const reloads = gw.proc.output().split('certificate reloaded').length;
    process.kill(gw.proc.pid, 'SIGHUP');
    await eventually(() => gw.proc.output().split('certificate reloaded').length >= reloads + 2, {
      what: 'api and broker certificates reloaded',
    });
    expect(servedSerial(tlsPort, certs.ca)).toBe(renewed);
    expect(servedSerial(apiPort, certs.ca)).toBe(renewed);
    // The subscriber connected before the renewal is still there and still receives.
    const pub = await mosq('mosquitto_pub', [
      ...mqtts(certs.ca),
      ...admin(),
      '-t',
      `${P}/probe-9/events`,
      '-m',
      'after-renewal',
    ]);
    expect(pub.code).toBe(0);
    await eventually(() => messages(sub).some((l) => l === `${P}/probe-9/events after-renewal`), {
      what: 'message after the renewal',
    });
    expect(sub.child.exitCode).toBeNull();
    expect(gw.proc.child.exitCode).toBeNull();
    await sub.stop();
  });
});
