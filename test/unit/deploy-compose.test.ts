import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers/procs.ts';

// Docker cannot run here; this reads the compose file and the Dockerfile the way compose
// and the image would, for what commissioning needs: a config it can save into.

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { volumes?: string[]; command?: string[] }>;
};
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const CMD = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
const configFile = CMD[CMD.indexOf('--config') + 1]!;

describe('the compose deployment lets commissioning save the config', () => {
  const mounts = (compose.services.gateway!.volumes ?? []).map((v) => {
    const [host, target, mode] = v.split(':');
    return { host: host!, target: target!, mode };
  });

  it("mounts the config's directory, writable, not the file alone or read-only", () => {
    const dir = path.posix.dirname(configFile);
    const m = mounts.find((x) => x.target === dir);
    expect(m, `a volume at ${dir}`).toBeDefined();
    expect(m!.mode).toBeUndefined(); // no :ro
    expect(mounts.some((x) => x.target === configFile)).toBe(false);
    const host = path.join(ROOT, m!.host);
    expect(statSync(host).isDirectory()).toBe(true);
    expect(existsSync(path.join(host, path.posix.basename(configFile)))).toBe(true);
  });

  it('runs as a fixed uid the docs tell to chown the directory to', () => {
    const uid = /useradd[^\n]*--uid (\d+)/.exec(dockerfile)?.[1];
    expect(uid).toBeDefined();
    expect(readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8')).toContain(
      `chown -R ${uid}:${uid} deploy/config`,
    );
  });
});
