/**
 * `npm run bench [-- --quick] [-- --only modbus,broker]`: every benchmark, one after
 * the other (they would otherwise measure each other on 2 cores), each against a
 * ceiling measured in the same run. Results go to the console and bench/RESULTS.md.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchResult, BenchRun } from './types.ts';

const BENCHES: Record<string, () => Promise<{ run: BenchRun }>> = {
  modbus: () => import('./modbus.ts'),
  ingest: () => import('./ingest.ts'),
  broker: () => import('./broker.ts'),
  onvif: () => import('./onvif.ts'),
  scale: () => import('./scale.ts'),
  supervision: () => import('./supervision.ts'),
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(`usage: npm run bench -- [--quick] [--only ${Object.keys(BENCHES).join(',')}] [--out FILE]

  --quick   smaller counts (a minute or two in all); the full run takes several minutes
  --only    run just these benchmarks
  --out     where to write the results (default bench/RESULTS.md)`);
  process.exit(0);
}
const names = values.only ? values.only.split(',') : Object.keys(BENCHES);
for (const n of names) {
  if (!BENCHES[n]) {
    console.error(`unknown benchmark "${n}" (have: ${Object.keys(BENCHES).join(', ')})`);
    process.exit(2);
  }
}

const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(`gatehouse benchmarks${values.quick ? ' (quick)' : ''} — ${machine}; load ${load()}`);

const results: (BenchResult & { seconds: number; error?: string })[] = [];
for (const name of names) {
  console.log(`\n== ${name}`);
  const started = performance.now();
  try {
    const mod = await BENCHES[name]!();
    const r = await mod.run({ quick: Boolean(values.quick), log: (l) => console.log(`  ${l}`) });
    results.push({ ...r, seconds: (performance.now() - started) / 1000 });
  } catch (err) {
    console.error(`  ${name} failed: ${(err as Error).stack ?? err}`);
    results.push({
      name,
      lines: [],
      ratios: [],
      seconds: (performance.now() - started) / 1000,
      error: (err as Error).message,
    });
  }
}

const md: string[] = [
  '# Benchmark results',
  '',
  `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench${values.quick ? ' -- --quick' : ''}\`.`,
  `Machine: ${machine}. Load average at the end: ${load()}.`,
  '',
  '| benchmark | ratio | value | target | met |',
  '| --- | --- | ---: | ---: | --- |',
];
for (const r of results) {
  for (const q of r.ratios) {
    const met =
      q.max !== undefined
        ? q.value < q.max
          ? 'yes'
          : 'no'
        : q.target === undefined
          ? ''
          : q.value >= q.target
            ? 'yes'
            : 'no';
    const target = q.max !== undefined ? `< ${q.max}` : (q.target ?? '');
    md.push(`| ${r.name} | ${q.label} | ${q.value.toFixed(2)} | ${target} | ${met} |`);
  }
  if (r.error) md.push(`| ${r.name} | failed: ${r.error.replace(/\|/g, '/')} | | | |`);
}
for (const r of results) {
  md.push('', `## ${r.name} (${r.seconds.toFixed(0)} s)`, '', ...r.lines);
}
const out = values.out ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');
writeFileSync(out, md.join('\n') + '\n');
console.log(`\nresults written to ${out}`);
process.exit(results.some((r) => r.error) ? 1 : 0);
