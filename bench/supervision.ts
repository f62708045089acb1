import type { BenchResult, BenchRun } from './types.ts';
import type { HealthMessage } from '../gateway/core/bus.ts';
import type { Gateway } from '../gateway/app.ts';
import type { SupervisionReport } from '../gateway/commands/supervise.ts';
import type { ModbusBarrierDriver } from '../drivers/modbus/driver.ts';
import type { TransactionRecord } from '../drivers/modbus/bus.ts';
import { startBarrierSim } from '../test/helpers/gateway.ts';
import { startSim } from '../test/helpers/modbus-harness.ts';
import { eventually, type Proc } from '../test/helpers/procs.ts';
import { ptyPair } from '../test/helpers/socat.ts';
import { fmt, gatewayInProcess, percentile } from '../test/helpers/supervision.ts';
import {
  analyseBlindRun,
  describeBlindRun,
  feeSystem,
  startBlindVillage,
  type BlindVillageSpec,
} from '../test/helpers/blind-run.ts';

/**
 * What supervising a close costs, and what it buys.
 * - Costs, on a 9600-baud RS-485 line (socat pty) and on Modbus TCP, 4 units each, arms
 *   coming down in 2 s: the supervision read rate against back-to-back reads of the same
 *   unit in the same run (the ceiling), the share of the line it takes during a close, and
 *   how much later the other units' polls are served meanwhile than with the line idle.
 * - The randomized run on controllers without their own safety (test/helpers/blind-run.ts):
 *   10,000 commands over 32 controllers on TCP, and a longer run on the RS-485 line than
 *   the suite's; impacts, races and the detection→reversal latency.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CostFigures {
  ceiling: number;
  rate: number;
  reads: number;
  closes: number;
  closeMs: number;
  share: number;
  txPerSecond: number;
  basePollP50: number;
  extraP50: number;
  extraP99: number;
  extraMax: number;
}

async function costs(transport: 'rtu' | 'tcp', closes: number, quick: boolean): Promise<CostFigures> {
  const procs: Proc[] = [];
  const simArgs = [
    '--units',
    '1,2,3,4',
    '--open-ms',
    '300',
    '--close-ms',
    '2000',
    '--traffic',
    'off',
    '--blind',
  ];
  let bus: string;
  if (transport === 'rtu') {
    const pty = await ptyPair();
    procs.push(pty.proc, (await startSim(['--serial', pty.b, '--baud', '9600', ...simArgs])).proc);
    bus = `{ id: line, type: rtu, path: ${pty.a}, baud: 9600, timeoutMs: 300 }`;
  } else {
    const sim = await startBarrierSim(simArgs);
    procs.push(sim.proc);
    bus = `{ id: line, type: tcp, host: 127.0.0.1, port: ${sim.modbus}, timeoutMs: 300 }`;
  }
  const devices = [1, 2, 3, 4]
    .map(
      (u) =>
        `  - { id: gate-${u}, kind: barrier, driver: modbus, bus: line, unit: ${u}, profile: northgate-hr, pollMs: 1000 }`,
    )
    .join('\n');
  const { gw } = await gatewayInProcess(
    `village: bench\nbuses: [${bus}]\nevidence: { enabled: false }\ndevices:\n${devices}\n`,
  );
  try {
    await eventually(() => gw.state.all().every((s) => s.health.status === 'online'), {
      what: 'online',
      timeoutMs: 30_000,
    });
    const driver = gw.registry.get('gate-1')!.driver as ModbusBarrierDriver;
    const tx: TransactionRecord[] = [];
    driver.bus.onTransaction = (t) => tx.push(t);
    const polls: { at: number; ms: number }[] = [];
    gw.bus.subscribe((m) => {
      if (m.type !== 'health' || m.device.id === 'gate-1' || m.pollMs === undefined) return;
      const h = m as HealthMessage;
      polls.push({ at: performance.now(), ms: (h.pollMs ?? 0) + (h.lateMs ?? 0) });
    });
    const reports: SupervisionReport[] = [];
    gw.commands.onSupervision((r) => reports.push(r));

    // The ceiling: the same narrow reads of the same unit, back to back, nothing else asked for.
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < (quick ? 1500 : 3000)) {
      await driver.sense();
      n++;
    }
    const ceiling = n / ((performance.now() - t0) / 1000);
    await sleep(1200); // let the polls held back by the ceiling run catch up
    polls.length = 0;
    await sleep(quick ? 3000 : 6000);
    const basePollP50 = percentile(
      polls.map((p) => p.ms),
      50,
    );

    const windows: [number, number][] = [];
    for (let i = 0; i < closes; i++) {
      await command(gw, 'open', i);
      const from = performance.now();
      await command(gw, 'close', i);
      windows.push([from, performance.now()]);
      await sleep(500);
    }
    driver.bus.onTransaction = undefined;
    const inside = (at: number) => windows.some(([a, b]) => at >= a && at <= b + 50);
    // A poll held back by a close answers after it: count those that were under way during one.
    const overlaps = (p: { at: number; ms: number }) =>
      windows.some(([a, b]) => p.at >= a && p.at - p.ms <= b);
    const during = polls.filter(overlaps).map((p) => p.ms - basePollP50);
    const closeMs = reports.reduce((s, r) => s + r.durationMs, 0);
    const reads = reports.reduce((s, r) => s + r.reads, 0);
    const busy = (f: (t: TransactionRecord) => boolean) =>
      tx.filter((t) => f(t) && inside(t.startedAt)).reduce((s, t) => s + (t.doneAt - t.startedAt), 0);
    const windowMs = windows.reduce((s, [a, b]) => s + (b - a), 0);
    return {
      ceiling,
      rate: reads / (closeMs / 1000),
      reads,
      closes: reports.length,
      closeMs: closeMs / Math.max(1, reports.length),
      share: busy((t) => t.priority === 'supervise') / windowMs,
      txPerSecond:
        tx.filter((t) => t.priority === 'supervise' && inside(t.startedAt)).length / (windowMs / 1000),
      basePollP50,
      extraP50: percentile(during, 50),
      extraP99: percentile(during, 99),
      extraMax: during.length ? Math.max(...during) : NaN,
    };
  } finally {
    await gw.stop();
    for (const p of procs) await p.stop();
  }
}

async function command(gw: Gateway, action: 'open' | 'close', i: number): Promise<void> {
  const rec = await gw.commands.submit(
    'gate-1',
    { requestId: `bench-${action}-${i}-${Date.now()}`, action, reason: 'bench' },
    'bench',
  );
  const final = await gw.commands.wait(rec.id, 15_000);
  if (final?.state !== 'confirmed')
    throw new Error(`${action} ended ${final?.state} ${final?.failure ?? ''}`);
}

async function blindRun(spec: BlindVillageSpec, commands: number, waitMs: number) {
  const village = await startBlindVillage(spec);
  try {
    const { records, next, started } = await feeSystem(village.gw, spec.units, commands, {
      limitMs: 900_000,
      waitMs,
    });
    const seconds = (Date.now() - started) / 1000;
    const f = await analyseBlindRun(village.control, village.dataDir, village.units, [...records.values()]);
    return { f, next, seconds };
  } finally {
    await village.stop();
  }
}

export const run: BenchRun = async ({ quick, log }) => {
  const lines: string[] = [
    'Cost of supervising a close (4 units on the bus, arms coming down in 2 s, polls every 1 s):',
    '',
    '| bus | supervision reads/s | back-to-back ceiling | line share during a close | others’ polls: idle p50 | extra wait p50 / p99 / max |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const ratios: BenchResult['ratios'] = [];
  for (const transport of ['rtu', 'tcp'] as const) {
    log(`supervision: cost on ${transport === 'rtu' ? 'RS-485 at 9600 baud' : 'Modbus TCP'}`);
    const c = await costs(transport, quick ? 2 : 6, quick);
    lines.push(
      `| ${transport === 'rtu' ? 'RTU 9600' : 'TCP'} | ${fmt(c.rate)} (${c.reads} reads in ${c.closes} closes of ${fmt(c.closeMs, 0)} ms) | ` +
        `${fmt(c.ceiling)} | ${fmt(c.share * 100)} % (${fmt(c.txPerSecond)} tx/s) | ${fmt(c.basePollP50)} ms | ` +
        `${fmt(c.extraP50)} / ${fmt(c.extraP99)} / ${fmt(c.extraMax)} ms |`,
    );
    if (transport === 'rtu') {
      ratios.push({
        label: 'RTU 9600 supervision reads vs back-to-back ceiling',
        value: c.rate / c.ceiling,
        target: 0.9,
      });
      ratios.push({
        label: 'RTU 9600 others’ polls: extra wait p99 / close length',
        value: c.extraP99 / c.closeMs,
      });
    } else {
      ratios.push({
        label: 'TCP supervision reads per 50 ms (target one)',
        value: (c.rate * 50) / 1000,
        target: 1,
      });
      ratios.push({ label: 'TCP supervision reads vs back-to-back ceiling', value: c.rate / c.ceiling });
    }
  }
  lines.push(
    '',
    'Randomized run on controllers without their own safety (--blind), 20 cars a minute per lane:',
    '',
  );
  const runs = [
    {
      spec: { transport: 'tcp', units: 32, closeMs: 400, confirmMs: 3000 },
      n: quick ? 2000 : 10_000,
      waitMs: 10_000,
    },
    {
      spec: { transport: 'rtu', units: 4, closeMs: 1000, confirmMs: 6000 },
      // One 9600-baud line carries about 5 commands a second: 600 take ~2 minutes, which
      // keeps the whole `npm run bench` under its 10 (the suite runs 400 of them too).
      n: quick ? 150 : 600,
      waitMs: 60_000,
    },
  ] as const;
  for (const r of runs) {
    log(`supervision: randomized run over ${r.spec.transport}, ${r.n} commands`);
    const { f, next, seconds } = await blindRun(r.spec, r.n, r.waitMs);
    const line = `${next} commands over ${r.spec.units} controllers in ${fmt(seconds)} s; ${describeBlindRun(f)}`;
    lines.push(`- ${r.spec.transport === 'tcp' ? 'TCP' : 'RTU 9600'}: ${line}`);
    const label = r.spec.transport === 'tcp' ? 'TCP' : 'RTU 9600';
    ratios.push({
      label: `${label} closes written without an impact`,
      value: 1 - f.impacts / Math.max(1, f.closesWritten),
      target: 1,
    });
    if (f.racesOnMovingArm > 0)
      ratios.push({
        label: `${label} races onto a moving arm that were reversed`,
        value: 1 - f.racesNotReversed.length / f.racesOnMovingArm,
        target: 1,
      });
  }
  for (const l of lines) log(l);
  return { name: 'supervision', lines, ratios };
};
