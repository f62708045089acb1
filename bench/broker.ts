/**
 * Broker throughput: our broker (auth + role ACLs, its own process) against plain aedes
 * (own process, no hooks) and Debian mosquitto (password file + ACL). Several publisher
 * processes send QoS 0 telemetry as fast as the broker takes it and several subscriber
 * processes receive all of it, so the broker, not one client, is the limit. The figure
 * is messages delivered to subscribers per second. Bounded in count and time; every
 * process is stopped by PID.
 *
 * Child modes (this file run directly): `plain-aedes PORT`, `pub PORT USER PW TOPIC COUNT`,
 * `sub PORT USER PW FILTER EXPECTED`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { BenchRun } from './types.ts';
import { freePort, startTs, type Proc } from '../test/helpers/procs.ts';
import { startMosquitto } from '../test/helpers/mosquitto.ts';

const HERE = fileURLToPath(import.meta.url);
const PREFIX = 'gatehouse/v1/bench';
const PUBLISHERS = 3;
const SUBSCRIBERS = 2;

async function plainAedes(port: number): Promise<void> {
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const srv = createServer((s) => aedes.handle(s)).listen(port, '127.0.0.1', () =>
    console.log('plain aedes ready'),
  );
  process.once('SIGTERM', () => srv.close(() => aedes.close(() => process.exit(0))));
}

async function publisher(
  port: number,
  user: string,
  pw: string,
  topic: string,
  count: number,
): Promise<void> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    username: user,
    password: pw,
    reconnectPeriod: 0,
  });
  const payload = JSON.stringify({
    time: new Date().toISOString(),
    fields: { arm_state: 'closed', cabinet_temp_c: 21.5 },
  });
  console.log('pub connected');
  // All publishers start together once the go file exists, so the broker sees the full load at once.
  const go = process.env.BENCH_GO_FILE ?? '';
  for (let t = 0; !existsSync(go) && t < 3000; t++) await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < count; i += 500) {
    await new Promise<void>((resolve) => {
      let left = Math.min(500, count - i);
      for (let j = 0; j < Math.min(500, count - i); j++)
        c.publish(topic, payload, { qos: 0 }, () => --left === 0 && resolve());
    });
  }
  console.log('pub done');
  await c.endAsync();
}

async function subscriber(
  port: number,
  user: string,
  pw: string,
  filter: string,
  expected: number,
): Promise<void> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    username: user,
    password: pw,
    reconnectPeriod: 0,
  });
  await c.subscribeAsync(filter, { qos: 0 });
  console.log('sub ready');
  let n = 0;
  let first = 0;
  let last = 0;
  const finish = () => {
    console.log(`sub result ${JSON.stringify({ n, ms: last - first })}`);
    void c.endAsync().then(() => process.exit(0));
  };
  let idle = setTimeout(finish, 20_000);
  c.on('message', (_topic, _payload, packet) => {
    if (packet.retain) return; // the broker's own retained status, sent on subscribe
    if (n++ === 0) first = performance.now();
    last = performance.now();
    clearTimeout(idle);
    if (n >= expected) return finish();
    idle = setTimeout(finish, 3000);
  });
}

interface Target {
  name: string;
  port: number;
  stop(): Promise<unknown>;
  creds: { pub: (i: number) => [string, string]; sub: [string, string] };
}

async function measure(
  t: Target,
  perPublisher: number,
  dir: string,
  log: (l: string) => void,
): Promise<number> {
  const subs: Proc[] = [];
  const pubs: Proc[] = [];
  const goFile = path.join(dir, `go-${t.port}`);
  try {
    for (let s = 0; s < SUBSCRIBERS; s++) {
      const p = startTs(path.relative(process.cwd(), HERE), [
        'sub',
        String(t.port),
        ...t.creds.sub,
        `${PREFIX}/#`,
        String(PUBLISHERS * perPublisher),
      ]);
      subs.push(p);
      await p.waitFor(/sub ready/, 30_000);
    }
    for (let i = 0; i < PUBLISHERS; i++) {
      const topic = `${PREFIX}/dev-${i}/telemetry`;
      pubs.push(
        startTs(
          path.relative(process.cwd(), HERE),
          ['pub', String(t.port), ...t.creds.pub(i), topic, String(perPublisher)],
          {
            env: { ...process.env, BENCH_GO_FILE: goFile },
          },
        ),
      );
    }
    await Promise.all(pubs.map((p) => p.waitFor(/pub connected/, 30_000)));
    writeFileSync(goFile, 'go');
    const results = await Promise.all(subs.map((p) => p.waitFor(/sub result/, 90_000)));
    const parsed = results.map((l) => JSON.parse(l.slice(l.indexOf('{'))) as { n: number; ms: number });
    const delivered = parsed.reduce((a, r) => a + r.n, 0);
    const ms = Math.max(...parsed.map((r) => r.ms));
    const rate = delivered / (ms / 1000);
    log(
      `${t.name}: ${delivered} delivered (${((100 * delivered) / (SUBSCRIBERS * PUBLISHERS * perPublisher)).toFixed(1)} %) in ${ms.toFixed(0)} ms → ${Math.round(rate)} msg/s`,
    );
    return rate;
  } finally {
    await Promise.all([...pubs, ...subs].map((p) => p.stop()));
  }
}

export const run: BenchRun = async ({ quick, log }) => {
  const perPublisher = quick ? 20_000 : 60_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-bench-broker-'));
  const users = [...Array(PUBLISHERS).keys()].map((i) => ({
    username: `dev-${i}`,
    password: 'pw',
    role: 'device',
    device: `dev-${i}`,
  }));
  users.push({ username: 'reader', password: 'pw', role: 'reader', device: '' });
  writeFileSync(
    path.join(dir, 'users.json'),
    JSON.stringify(users.map(({ device, ...u }) => (device ? { ...u, device } : u))),
  );
  const creds = {
    pub: (i: number): [string, string] => [`dev-${i}`, 'pw'],
    sub: ['reader', 'pw'] as [string, string],
  };
  const rates: Record<string, number> = {};
  try {
    for (const name of ['gatehouse broker (auth + ACL)', 'plain aedes', 'mosquitto (auth + ACL)']) {
      let target: Target;
      if (name.startsWith('gatehouse')) {
        const port = await freePort();
        const proc = startTs(
          'gateway/broker/main.ts',
          ['serve', '--village', 'bench', '--port', String(port), '--users', path.join(dir, 'users.json')],
          {
            env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn' },
          },
        );
        await proc.waitFor(/mqtt broker ready/, 30_000);
        target = { name, port, stop: () => proc.stop(), creds };
      } else if (name === 'plain aedes') {
        const port = await freePort();
        const proc = startTs(path.relative(process.cwd(), HERE), ['plain-aedes', String(port)]);
        await proc.waitFor(/plain aedes ready/, 30_000);
        target = { name, port, stop: () => proc.stop(), creds };
      } else {
        const m = await startMosquitto({
          users: [
            ...users.map((u) => ({ username: u.username, password: 'pw' })),
            { username: 'reader', password: 'pw' },
          ],
          acl: ['pattern write gatehouse/v1/bench/%u/#', 'user reader', 'topic read gatehouse/v1/bench/#'],
        });
        target = { name, port: m.port, stop: () => m.dispose(), creds };
      }
      try {
        rates[name] = await measure(target, perPublisher, dir, log);
      } finally {
        await target.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ours = rates['gatehouse broker (auth + ACL)']!;
  const plain = rates['plain aedes']!;
  const mosquitto = rates['mosquitto (auth + ACL)']!;
  return {
    name: 'broker',
    lines: [
      `${PUBLISHERS} publisher and ${SUBSCRIBERS} subscriber processes, QoS 0, ${perPublisher} messages per publisher, fan-out ×${SUBSCRIBERS}; delivered msg/s:`,
      '',
      '| broker | msg/s delivered |',
      '| --- | ---: |',
      ...Object.entries(rates).map(([n, r]) => `| ${n} | ${Math.round(r)} |`),
    ],
    ratios: [
      { label: 'gatehouse broker vs plain aedes', value: ours / plain, target: 0.8 },
      { label: 'gatehouse broker vs mosquitto', value: ours / mosquitto },
    ],
  };
};

const [mode, ...args] = process.argv.slice(2);
if (process.argv[1] === HERE && mode) {
  const n = args.map(Number);
  if (mode === 'plain-aedes') await plainAedes(n[0]!);
  else if (mode === 'pub') await publisher(n[0]!, args[1]!, args[2]!, args[3]!, n[4]!);
  else if (mode === 'sub') await subscriber(n[0]!, args[1]!, args[2]!, args[3]!, n[4]!);
  else if (mode === 'run') {
    const r = await run({ quick: args[0] === 'quick', log: console.log });
    console.log(
      [
        ...r.lines,
        '',
        ...r.ratios.map(
          (x) => `${x.label}: ${x.value.toFixed(2)}${x.target ? ` (target ≥ ${x.target})` : ''}`,
        ),
      ].join('\n'),
    );
  }
}
