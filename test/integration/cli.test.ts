import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTs } from '../helpers/procs.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-cli-'));

async function cli(args: string[]) {
  const p = startTs('gateway/cli/main.ts', args);
  const { code } = await p.exited;
  return { code, out: p.output() };
}

describe('gatehouse CLI', () => {
  it('explains itself', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['start', 'demo', 'check', 'hash-password', 'discover']) expect(r.out).toContain(c);
    const start = await cli(['start', '--help']);
    expect(start.out).toContain('--config FILE');
  });

  it('refuses a bad config at start with exit code 2, naming file, line and field', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'village: oakfield\napi:\n  port: eighty\n');
    const r = await cli(['start', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      `error GH_CONFIG_INVALID: invalid config (1 problem):\n  ${file}:3:9: api.port: expected integer, got "eighty"`,
    );
  });

  it('says which flag is unknown', async () => {
    const r = await cli(['start', '--confg', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/error GH_CLI_USAGE: Unknown option '--confg'/);
  });

  it('checks a good config and lists its devices', async () => {
    const file = path.join(dir, 'good.yaml');
    writeFileSync(
      file,
      'village: oakfield\nbuses: [{ id: l1, type: tcp, host: 127.0.0.1, port: 502 }]\n' +
        'devices: [{ id: gate-1, kind: barrier, driver: modbus, bus: l1, unit: 1, profile: pulsar-relay, site: north, lane: in }]\n',
    );
    const r = await cli(['check', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('valid — village oakfield, 1 buses, 1 devices');
    expect(r.out).toMatch(/gate-1\s+barrier\s+modbus\s+north\/in/);
  });
});
