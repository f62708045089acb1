import ModbusSerial from 'modbus-serial';
import type { ModbusRTU } from 'modbus-serial/ModbusRTU.js';
import pino from 'pino';
import type { BenchResult, BenchRun } from './types.ts';
import type { TransactionRecord } from '../drivers/modbus/bus.ts';
import { createModbusDrivers, type ModbusBusConfig } from '../drivers/modbus/config.ts';
import { transactionWireMs } from '../drivers/modbus/timing.ts';
import { ptyPair } from '../test/helpers/socat.ts';
import { startTs, type Proc } from '../test/helpers/procs.ts';

/**
 * Modbus benchmark.
 * - RTU at 9600 and 115200 baud on a socat pty, 16 units on one line, every unit polled
 *   back to back: per transaction, the bus time minus the frame's wire time (request,
 *   answer, two 3.5-char silences) — p50/p99 — and the line utilization (sum of wire
 *   times / elapsed). The simulator holds each answer for exactly its wire time, so
 *   what is left is gateway plus pty overhead; the gateway's own share (encode, queue,
 *   parse, decode) is reported separately.
 * - Modbus TCP: driver reads per second vs a bare modbus-serial client loop against the
 *   same simulator in the same run.
 */
const ctx = { log: pino({ level: 'silent' }), emit: () => undefined, dataDir: '/tmp' };
const UNITS = Array.from({ length: 16 }, (_, i) => i + 1);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function startSim(args: string[]): Promise<{ proc: Proc; line: string }> {
  const proc = startTs('device-sims/main.ts', ['barrier', ...args]);
  return { proc, line: await proc.waitFor(/listening/, 30_000) };
}

async function rtuRun(baud: number, rounds: number, maxMs: number) {
  const pty = await ptyPair();
  const sim = await startSim(['--serial', pty.b, '--baud', String(baud), '--units', UNITS.join(',')]);
  const bus: ModbusBusConfig = { id: 'line', type: 'rtu', path: pty.a, baud, timeoutMs: 500 };
  const d = createModbusDrivers(
    [bus],
    UNITS.map((unit) => ({ id: `b${unit}`, bus: 'line', unit, profile: 'northgate-hr' })),
    ctx,
  );
  const records: TransactionRecord[] = [];
  try {
    await Promise.all(d.drivers.map((x) => x.read())); // warm up: port open, JIT
    d.buses.get('line')!.onTransaction = (t) => records.push(t);
    const until = Date.now() + maxMs;
    await Promise.all(
      d.drivers.map(async (x) => {
        for (let i = 0; i < rounds && Date.now() < until; i++) await x.read();
      }),
    );
  } finally {
    await d.close();
    await sim.proc.stop();
    await pty.proc.stop();
  }
  const wire = records.map((r) => transactionWireMs(r.reqBytes, r.resBytes, baud));
  const overhead = records.map((r, i) => r.doneAt - r.startedAt - wire[i]!);
  const gateway = records.map((r) => r.writtenAt - r.startedAt - r.silenceWaitMs + (r.doneAt - r.answeredAt));
  const elapsed = records.at(-1)!.doneAt - records[0]!.startedAt;
  return {
    n: records.length,
    wireMs: wire[0]!,
    overheadP50: pct(overhead, 50),
    overheadP99: pct(overhead, 99),
    gatewayP50: pct(gateway, 50),
    gatewayP99: pct(gateway, 99),
    utilization: wire.reduce((a, b) => a + b, 0) / elapsed,
  };
}

async function tcpRun(ms: number, maxCount: number) {
  const sim = await startSim(['--tcp', '127.0.0.1:0']);
  const port = Number(/tcp=[^ ]*:(\d+)/.exec(sim.line)![1]);
  const d = createModbusDrivers(
    [{ id: 'tcp', type: 'tcp', host: '127.0.0.1', port }],
    [{ id: 'b1', bus: 'tcp', unit: 1, profile: 'northgate-hr' }],
    ctx,
  );
  // modbus-serial is CommonJS: its default export is the client class itself.
  const Client = ModbusSerial as unknown as new () => ModbusRTU;
  const client = new Client();
  try {
    const loop = async (fn: () => Promise<unknown>) => {
      for (let i = 0; i < 200; i++) await fn(); // warm up
      const t0 = performance.now();
      let n = 0;
      while (n < maxCount && performance.now() - t0 < ms) {
        await fn();
        n++;
      }
      return n / ((performance.now() - t0) / 1000);
    };
    const driver = await loop(() => d.drivers[0]!.read());
    await client.connectTCP('127.0.0.1', { port });
    client.setID(1);
    client.setTimeout(1000);
    const bare = await loop(() => client.readHoldingRegisters(0, 13));
    return { driver, bare };
  } finally {
    client.close(() => undefined);
    await d.close();
    await sim.proc.stop();
  }
}

export const run: BenchRun = async ({ quick, log }) => {
  const lines = [
    '| RTU baud | transactions | wire ms/tx | overhead p50 | overhead p99 | gateway-only p50 / p99 | utilization |',
    '|---|---|---|---|---|---|---|',
  ];
  const ratios: BenchResult['ratios'] = [];
  for (const [baud, rounds] of [
    [9600, quick ? 2 : 20],
    [115200, quick ? 10 : 40],
  ] as const) {
    log(`modbus: RTU ${baud} baud, 16 units × ${rounds} polls`);
    const r = await rtuRun(baud, rounds, quick ? 8000 : 20_000);
    lines.push(
      `| ${baud} | ${r.n} | ${r.wireMs.toFixed(2)} | ${r.overheadP50.toFixed(3)} ms | ${r.overheadP99.toFixed(3)} ms | ` +
        `${r.gatewayP50.toFixed(3)} / ${r.gatewayP99.toFixed(3)} ms | ${(r.utilization * 100).toFixed(1)} % |`,
    );
    ratios.push({ label: `RTU ${baud} bus utilization`, value: r.utilization, target: 0.9 });
    ratios.push({ label: `RTU ${baud} overhead p99 (ms, target < 1)`, value: r.overheadP99 });
  }
  log('modbus: TCP driver vs bare modbus-serial loop');
  const t = await tcpRun(quick ? 1000 : 3000, quick ? 3000 : 20_000);
  lines.push(
    '',
    `- Modbus TCP, 13-register reads: driver ${t.driver.toFixed(0)}/s, bare modbus-serial ${t.bare.toFixed(0)}/s (same simulator, same run)`,
  );
  ratios.push({ label: 'TCP driver vs bare modbus-serial', value: t.driver / t.bare });
  for (const l of lines) log(l);
  return { name: 'modbus', lines, ratios };
};
