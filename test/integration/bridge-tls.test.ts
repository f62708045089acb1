import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bridge } from '../../gateway/bridge/bridge.ts';
import { GatehouseBroker } from '../../gateway/broker/broker.ts';
import { makeCerts, type TestCerts } from '../helpers/certs.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { messages, subscriber } from '../helpers/mqtt-clients.ts';
import { eventually } from '../helpers/procs.ts';

// The uplink over TLS to a real mosquitto that requires client certificates: the bridge
// checks the central broker with our CA and the name its certificate carries, and proves
// itself with its own certificate. A wrong CA or a wrong name never connects.

const V = 'tlsv';
const P = `gatehouse/v1/${V}`;
const log = pino({ level: 'silent' });

describe('bridge to a central broker over TLS', () => {
  /** The village's own CA and the bridge's client certificate (the central broker trusts this CA). */
  let certs: TestCerts;
  /** The town's CA and the central broker's certificate (no IP in it: reaching it by IP needs servername). */
  let town: TestCerts;
  let central: Mosquitto;
  let broker: GatehouseBroker;
  const bridges: Bridge[] = [];

  const bridge = async (tls: Record<string, string>) => {
    const b = new Bridge({
      broker,
      log,
      dataDir: mkdtempSync(path.join(tmpdir(), 'gh-bridge-tls-')),
      config: {
        url: `mqtts://127.0.0.1:${central.tlsPort}`,
        clientId: `gatehouse-${V}-${bridges.length}`,
        tls,
        forward: [`${P}/+/telemetry`],
        subscribe: [],
        maxInflight: 8,
        maxQueueBytes: 1024 * 1024,
        keepaliveSeconds: 5,
        qos: 1,
      } as never,
    });
    bridges.push(b);
    await b.start();
    return b;
  };

  beforeAll(async () => {
    // The central broker's certificate names central.town.test only: reaching it by IP needs servername.
    certs = makeCerts({ clientCn: `village-${V}` });
    town = makeCerts({ serverNames: ['central.town.test'], onlyNames: true });
    central = await startMosquitto({
      users: [{ username: 'town', password: 'town-pw' }],
      acl: [`user village-${V}`, `topic readwrite ${P}/#`, 'user town', 'topic readwrite gatehouse/#'],
      tls: {
        cafile: certs.ca,
        certfile: town.server.cert,
        keyfile: town.server.key,
        requireCertificate: true,
      },
    });
    broker = await GatehouseBroker.create({
      village: V,
      log,
      config: { host: '127.0.0.1', port: 0, users: [] },
    });
  });
  afterAll(async () => {
    for (const b of bridges) await b.close();
    await broker?.close();
    await central?.dispose();
  });

  it('connects with the CA, its client certificate and the server name, and forwards', async () => {
    const b = await bridge({
      ca: town.ca,
      cert: certs.client.cert,
      key: certs.client.key,
      servername: 'central.town.test',
    });
    await eventually(() => b.connected, { what: 'bridge connected over TLS' });
    const sub = await subscriber(central.port, ['-u', 'town', '-P', 'town-pw'], ['-t', `${P}/+/telemetry`]);
    await broker.publish(`${P}/gate-1/telemetry`, '{"seq":1}');
    await eventually(() => messages(sub).includes(`${P}/gate-1/telemetry {"seq":1}`), { what: 'forwarded' });
    await sub.stop();
  });

  it('never connects to a broker whose certificate our CA did not sign, or that carries another name', async () => {
    const wrongCa = await bridge({
      ca: town.wrongCa,
      cert: certs.client.cert,
      key: certs.client.key,
      servername: 'central.town.test',
    });
    const wrongName = await bridge({ ca: town.ca, cert: certs.client.cert, key: certs.client.key });
    await new Promise((r) => setTimeout(r, 3000));
    expect(wrongCa.connected).toBe(false);
    expect(wrongName.connected).toBe(false);
  });
});
