import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover, expandCidr } from '../../drivers/onvif/discovery.ts';
import { freePort } from '../helpers/procs.ts';
import { startProbeSim, type ProbeSim } from '../helpers/onvif-replay.ts';

// Multicast stays on loopback: the sims join 239.255.255.250 on 127.0.0.1 and our probe
// is sent with setMulticastInterface('127.0.0.1'), TTL 1.
describe('ONVIF discovery vs simulated probes on 127.0.0.x', () => {
  const sims: ProbeSim[] = [];
  let wsdPort = 0;

  beforeAll(async () => {
    wsdPort = await freePort();
    const start = async (host: string, password: string, serial: string) =>
      startProbeSim([
        '--http',
        `${host}:${await freePort()}`,
        '--rtsp',
        `${host}:${await freePort()}`,
        '--control',
        `127.0.0.1:${await freePort()}`,
        '--user',
        'installer',
        '--password',
        password,
        '--discovery-port',
        String(wsdPort),
        '--discovery-iface',
        '127.0.0.1',
        '--serial',
        serial,
        '--model',
        'GH-IR200',
      ]);
    sims.push(await start('127.0.0.2', 'right', 'SER-A'));
    sims.push(await start('127.0.0.3', 'other', 'SER-B')); // credentials we do not have
  });
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.proc.stop()));
  });

  it('expands CIDRs and refuses wide ones', () => {
    expect(expandCidr('127.0.0.0/30')).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(expandCidr('127.0.0.8/29')).toHaveLength(6);
    expect(() => expandCidr('10.0.0.0/8')).toThrow(/wider than \/16/);
    expect(() => expandCidr('300.1.1.1/24')).toThrow(/bad CIDR/);
  });

  it('refuses multicast without a named interface', async () => {
    await expect(discover({ multicast: true })).rejects.toThrow(/multicastInterface/);
  });

  it('unicast-scans 127.0.0.0/29 with progress, lists both, auth ok and failed', async () => {
    const progress: { done: number; total: number }[] = [];
    const found = await discover({
      cidr: '127.0.0.0/29',
      port: wsdPort,
      bindAddress: '127.0.0.1',
      username: 'installer',
      password: 'right',
      timeoutMs: 1500,
      concurrency: 4,
      onProgress: (p) => progress.push(p),
    });
    expect(progress.at(-1)).toMatchObject({ done: 6, total: 6 });
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6]);
    const a = found.find((d) => d.address === '127.0.0.2');
    const b = found.find((d) => d.address === '127.0.0.3');
    expect(a).toMatchObject({ auth: 'ok', serial: 'SER-A', model: 'GH-IR200' });
    expect(a!.xaddrs[0]).toBe(sims[0]!.deviceUrl);
    expect(a!.firmware).toBeTruthy();
    expect(a!.name).toBeTruthy();
    expect(a!.scopes.some((s) => s.startsWith('onvif://www.onvif.org/hardware/'))).toBe(true);
    expect(b).toMatchObject({ auth: 'failed' });
    expect(b!.serial).toBeUndefined();
  });

  it('finds the probes by multicast on the loopback interface', async () => {
    const found = await discover({
      multicast: true,
      multicastInterface: '127.0.0.1',
      port: wsdPort,
      timeoutMs: 1500,
    });
    const addresses = found.map((d) => d.xaddrs[0]);
    expect(addresses).toEqual(expect.arrayContaining(sims.map((s) => s.deviceUrl)));
    expect(found.every((d) => d.auth === 'not-tried')).toBe(true);
  });

  it('finds a device by HTTP when it ignores WS-Discovery', async () => {
    const port = Number(new URL(sims[0]!.deviceUrl).port);
    const found = await discover({
      hosts: ['127.0.0.2'],
      port: await freePort(),
      httpPorts: [port],
      bindAddress: '127.0.0.1',
      timeoutMs: 500,
      username: 'installer',
      password: 'right',
    });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ address: '127.0.0.2', auth: 'ok', serial: 'SER-A' });
  });
});
