/**
 * The randomized safety run's parts, shared by test/integration/command-safety.test.ts
 * and bench/supervision.ts (not a test file itself): a simulated fee system, a village of
 * simulated controllers without their own safety, and what the run shows, from the
 * controllers' side and from the gateway's audit.
 */
import type { Gateway } from '../../gateway/app.ts';
import type { CommandRecord } from '../../gateway/commands/schema.ts';
import { mulberry32 } from '../../device-sims/barrier/barrier.ts';
import { eventually, type Proc } from './procs.ts';
import { simControl, startBarrierSim } from './gateway.ts';
import { startSim } from './modbus-harness.ts';
import { ptyPair } from './socat.ts';
import { auditLines, fmt, gatewayInProcess, percentile, simCloses } from './supervision.ts';

export const ACTIONS = ['open', 'close', 'close', 'hold-open', 'release', 'stop'] as const;

/**
 * One fee-system worker per gate, each sending its next command when the last one ends,
 * 10 % of them re-sent with an already used requestId; `onFinal` sees each final record
 * with the one its requestId gave before, if any.
 */
export async function feeSystem(
  gw: Gateway,
  units: number,
  commands: number,
  opts: {
    limitMs?: number;
    waitMs?: number;
    onFinal?: (final: CommandRecord, before: CommandRecord | undefined) => void;
  } = {},
) {
  const { limitMs = 240_000, waitMs = 10_000 } = opts;
  const rand = mulberry32(42);
  const used: { requestId: string; device: string; action: string }[] = [];
  const records = new Map<string, CommandRecord>();
  let repeats = 0;
  let next = 0;
  const started = Date.now();
  const worker = async (gate: number) => {
    const device = `gate-${gate}`;
    while (next < commands && Date.now() - started < limitMs) {
      next++;
      const mine = used.filter((u) => u.device === device);
      let req: { requestId: string; action: (typeof ACTIONS)[number] };
      if (mine.length > 0 && rand() < 0.1) {
        const old = mine[Math.floor(rand() * mine.length)]!;
        req = { requestId: old.requestId, action: old.action as (typeof ACTIONS)[number] };
        repeats++;
      } else {
        req = { requestId: `fee-${gate}-${next}`, action: ACTIONS[Math.floor(rand() * ACTIONS.length)]! };
        used.push({ ...req, device });
      }
      const rec = await gw.commands.submit(device, { ...req, reason: 'randomized safety run' }, 'fee-system');
      const final = (await gw.commands.wait(rec.id, waitMs))!;
      opts.onFinal?.(final, records.get(req.requestId));
      records.set(req.requestId, final);
    }
  };
  await Promise.all(Array.from({ length: units }, (_, i) => worker(i + 1)));
  return { used, records, repeats, next, started };
}

export interface BlindVillageSpec {
  transport: 'tcp' | 'rtu';
  units: number;
  /** Arm travel down, ms (up is 100 ms). */
  closeMs: number;
  confirmMs: number;
  /** Cars per minute per lane. */
  ratePerMin?: number;
}

/** Controllers without their own safety (--blind), on one TCP endpoint or one 9600-baud RS-485 line, and a gateway in this process. */
export async function startBlindVillage(spec: BlindVillageSpec) {
  const units = Array.from({ length: spec.units }, (_, i) => i + 1);
  const simArgs = [
    ...['--units', units.join(','), '--open-ms', '100', '--close-ms', String(spec.closeMs)],
    ...['--traffic', 'random', '--rate-per-min', String(spec.ratePerMin ?? 20), '--seed', '11'],
    ...['--blind', '--impact-angle', '30'],
  ];
  let control: string;
  let bus: string;
  const procs: Proc[] = [];
  if (spec.transport === 'tcp') {
    const sim = await startBarrierSim(simArgs);
    procs.push(sim.proc);
    control = sim.control;
    bus = `{ id: line, type: tcp, host: 127.0.0.1, port: ${sim.modbus}, timeoutMs: 500 }`;
  } else {
    const pty = await ptyPair();
    const sim = await startSim(['--serial', pty.b, '--baud', '9600', ...simArgs]);
    procs.push(sim.proc, pty.proc);
    control = sim.control;
    bus = `{ id: line, type: rtu, path: ${pty.a}, baud: 9600, timeoutMs: 300 }`;
  }
  const pollMs = spec.transport === 'tcp' ? 500 : 1000;
  const devices = units
    .map(
      (u) =>
        `  - { id: gate-${u}, kind: barrier, driver: modbus, bus: line, unit: ${u}, profile: northgate-hr, lane: lane-${u}, pollMs: ${pollMs} }`,
    )
    .join('\n');
  const { gw, dataDir } = await gatewayInProcess(`village: blind
buses: [${bus}]
commands: { confirmTimeoutMs: ${spec.confirmMs}, confirmPollMs: 10 }
evidence: { enabled: false }
devices:
${devices}
`);
  await eventually(() => gw.state.all().every((s) => s.health.status !== 'offline'), {
    what: 'all gates online',
    timeoutMs: 30_000,
  });
  const stop = async () => {
    await gw.stop();
    for (const p of procs) await p.stop();
  };
  return { gw, control, dataDir, units, stop };
}

type SimUnit = { counts: { received: number; closesAfterReadingOccupied: number }; impacts: number };

/** What a run shows: from each controller's own account of its closes, and from the gateway's audit. */
export async function analyseBlindRun(
  control: string,
  dataDir: string,
  units: number[],
  finals: CommandRecord[],
) {
  const state = (await simControl(control, '/state')) as { units: Record<string, SimUnit> };
  const sims = Object.values(state.units);
  const closes = await simCloses(control);
  const executed = (r: CommandRecord) => r.history.some((h) => h.state === 'executing');
  const out = {
    impacts: sims.reduce((n, u) => n + u.impacts, 0),
    afterReadingOccupied: sims.reduce((n, u) => n + u.counts.closesAfterReadingOccupied, 0),
    received: sims.reduce((n, u) => n + u.counts.received, 0),
    written: finals.filter(executed).length,
    closesWritten: finals.filter((r) => r.action === 'close' && executed(r)).length,
    reversed: finals.filter((r) => r.failure?.startsWith('reversed:')).length,
    reversedByEye: finals.filter((r) => r.failure === 'reversed:photo-eye-blocked').length,
    tripped: finals.filter((r) => r.failure?.startsWith('interlock-tripped:')).length,
    /** Units whose received closes do not pair one to one with the gateway's written ones. */
    unpaired: [] as string[],
    races: 0,
    racesOnMovingArm: 0,
    racesUnderArm: 0,
    /** Races onto a moving arm whose close did not end reversed:… (must be none). */
    racesNotReversed: [] as string[],
    windowsMs: [...closes.values()].flat().flatMap((c) => c.windowMs ?? []),
    reversalMs: auditLines(dataDir)
      .filter((a) => a.data?.outcome === 'reversed')
      .map((a) => Number(a.data!.reversalMs)),
    simReversalMs: [] as number[],
    travelDeg: [] as number[],
  };
  for (const u of units) {
    const written = finals.filter((r) => r.device === `gate-${u}` && r.action === 'close' && executed(r));
    const seen = closes.get(String(u)) ?? [];
    if (seen.length !== written.length) out.unpaired.push(`unit ${u}: ${seen.length} vs ${written.length}`);
    seen.forEach((c, i) => {
      if (c.reversalAngleDeg !== undefined && c.detectAngleDeg !== undefined)
        out.travelDeg.push(c.detectAngleDeg - c.reversalAngleDeg);
      if (c.reversalMs !== undefined) out.simReversalMs.push(c.reversalMs);
      if (!c.race) return;
      out.races++;
      if (c.underArmAtWrite) out.racesUnderArm++;
      if (c.armAtWrite === 'closed') return; // an arm already down moves nothing
      out.racesOnMovingArm++;
      if (!written[i]?.failure?.startsWith('reversed:'))
        out.racesNotReversed.push(`unit ${u} close ${i}: ${written[i]?.failure ?? written[i]?.state}`);
    });
  }
  return out;
}

export type BlindRunFigures = Awaited<ReturnType<typeof analyseBlindRun>>;

const p = (xs: number[], digits = 2) =>
  `p50 ${fmt(percentile(xs, 50), digits)} / p99 ${fmt(percentile(xs, 99), digits)}`;

export function describeBlindRun(f: BlindRunFigures): string {
  return (
    `${f.closesWritten} closes written, ${f.reversed} reversed (${f.reversed - f.reversedByEye} loop, ` +
    `${f.reversedByEye} eye), ${f.tripped} tripped; ${f.races} races (a car after the read: ` +
    `${f.racesOnMovingArm} on a moving arm, ${f.racesUnderArm} under the arm), read→write window ` +
    `${p(f.windowsMs)} ms; impacts ${f.impacts}; detection→reversal acknowledged ${p(f.reversalMs)} ms ` +
    `(gateway), detecting read→reversal at the controller ${p(f.simReversalMs)} ms; arm travel ` +
    `detection→reversal ${p(f.travelDeg)}° (max ${fmt(Math.max(...f.travelDeg), 2)}°)`
  );
}
