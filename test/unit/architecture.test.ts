import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/procs.ts';

/** Every .ts file under `dir`, relative to the project root. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(path.join(ROOT, d))) {
      const rel = path.join(d, name);
      if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel);
      else if (rel.endsWith('.ts') && !rel.endsWith('.d.ts')) out.push(rel);
    }
  };
  walk(dir);
  return out;
}

// Entry points run their command when loaded: that is their job, not a side effect.
const ENTRY_POINTS = ['gateway/cli/main.ts', 'gateway/broker/main.ts'];

describe('architecture', () => {
  it('importing any product module starts nothing', () => {
    const files = [...sources('gateway'), ...sources('drivers')].filter((f) => !ENTRY_POINTS.includes(f));
    expect(files.length).toBeGreaterThan(50);
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/import-all.ts', ...files.map((f) => path.join(ROOT, f))],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    const report = JSON.parse(out.trim().split('\n').pop()!) as {
      before: Record<string, number>;
      after: Record<string, number>;
      resources: string[];
      failed: string[];
    };
    expect(report.failed).toEqual([]);
    expect(report.after, `left behind: ${report.resources.join(', ')}`).toEqual(report.before);
  }, 60_000);

  it('builds dist/ from the gateway and drivers only', () => {
    const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    expect(build.include.sort()).toEqual(['drivers', 'gateway', 'types']);
    // The suite runs after `npm run build`: what it produced holds no simulator or test code.
    const dist = path.join(ROOT, 'dist');
    if (!existsSync(dist)) return;
    expect(readdirSync(dist).sort()).toEqual(['drivers', 'gateway']);
    const js = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    const offenders = js.filter((f) =>
      /from ['"][./]*(device-sims|test|bench)\//.test(readFileSync(path.join(dist, f), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('keeps simulators out of the container image', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).not.toMatch(/COPY\s+device-sims/);
    expect(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n')).toContain('device-sims');
  });
});
