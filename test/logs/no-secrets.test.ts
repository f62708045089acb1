import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_LOGS } from '../helpers/gateway.ts';

// Runs after every other project (vitest.config.ts, groupOrder): each gateway the suite
// started through test/helpers/gateway.ts left its whole output and the secrets it was
// given; none of those secrets, nor any hash of them, may appear in what it printed.

/** Every form a secret could leak in: itself, its SHA-256 (hex and as a tokenHash), the hash's digest part. */
export function forms(secret: string): string[] {
  const hex = createHash('sha256').update(secret).digest('hex');
  const out = [secret, hex];
  const m = /^(sha256|scrypt)\$(.+)$/.exec(secret);
  if (m) out.push(m[2]!.split('$').pop()!);
  return out.filter((s) => s.length >= 8);
}

/** The lines of a log that hold one of the secrets, with the secret named by position only. */
export function leaks(log: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  secrets.forEach((secret, i) => {
    for (const form of forms(secret)) {
      const line = log.split('\n').find((l) => l.includes(form));
      if (line === undefined) continue;
      // The report must not leak what it found: every form of every secret is masked.
      const masked = secrets.flatMap(forms).reduce((l, f) => l.split(f).join('<SECRET>'), line);
      found.push(`secret #${i} in: ${masked.slice(0, 200)}`);
    }
  });
  return found;
}

describe('no secret in any gateway log of the suite', () => {
  it('finds a planted secret (the check can fail)', () => {
    const planted = 'fee-token-0123456789abcdef';
    expect(leaks(`{"msg":"hello"}\n{"token":"${planted}"}`, [planted])).toHaveLength(1);
    const hash = `sha256$${createHash('sha256').update(planted).digest('hex')}`;
    expect(leaks(`{"tokenHash":"${hash}"}`, [planted])).toHaveLength(1);
    expect(leaks('{"msg":"clean"}', [planted, hash])).toEqual([]);
  });

  it('every gateway the suite started printed none of its secrets or their hashes', () => {
    const files = existsSync(GATEWAY_LOGS)
      ? readdirSync(GATEWAY_LOGS).filter((f) => f.endsWith('.secrets.json'))
      : [];
    expect(
      files.length,
      `no gateway output under ${GATEWAY_LOGS}: run the integration tests first`,
    ).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const f of files) {
      const base = path.join(GATEWAY_LOGS, f.replace(/\.secrets\.json$/, ''));
      const secrets = JSON.parse(readFileSync(`${base}.secrets.json`, 'utf8')) as string[];
      const log = existsSync(`${base}.log`) ? readFileSync(`${base}.log`, 'utf8') : '';
      for (const p of leaks(log, secrets)) problems.push(`${path.basename(base)}.log: ${p}`);
    }
    expect(problems).toEqual([]);
  });
});
