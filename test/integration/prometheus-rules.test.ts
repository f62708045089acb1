import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { StateStore } from '../../gateway/core/state.ts';
import { GatewayMetrics } from '../../gateway/metrics.ts';
import { ROOT } from '../helpers/procs.ts';

/**
 * The alert rules in deploy/prometheus: valid for Prometheus' own tool, each alert fired
 * (and held back) by `promtool test rules`, and naming only metrics the gateway exports,
 * so no alert waits silently on a series that never exists.
 */

const DIR = path.join(ROOT, 'deploy', 'prometheus');
const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8' });

interface Rule {
  alert: string;
  expr: string;
}
const rules = (
  parse(readFileSync(path.join(DIR, 'rules.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);

describe('Prometheus alert rules', () => {
  it('pass promtool check rules, and the example config loads them', () => {
    const r = promtool('check', 'rules', 'rules.yml');
    expect(r.stdout + r.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
    const c = promtool('check', 'config', 'prometheus.yml');
    expect(c.status, c.stdout + c.stderr).toBe(0);
  });

  it('pass promtool test rules, with a firing case for every alert', () => {
    const r = promtool('test', 'rules', 'rules.test.yml');
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
    const tests = (
      parse(readFileSync(path.join(DIR, 'rules.test.yml'), 'utf8')) as {
        tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
      }
    ).tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of rules) {
      const cases = tests.filter((t) => t.alertname === alert);
      expect(
        cases.some((t) => t.exp_alerts.length > 0),
        `${alert} fires in a test`,
      ).toBe(true);
      expect(
        cases.some((t) => t.exp_alerts.length === 0),
        `${alert} is held back in a test`,
      ).toBe(true);
    }
  });

  it('name only metrics the gateway exports', async () => {
    const state = new StateStore();
    state.register({ id: 'b', kind: 'barrier' });
    state.register({ id: 'p', kind: 'probe' });
    state.handle({ type: 'telemetry', device: { id: 'p', kind: 'probe' }, fields: { night: true }, time: 0 });
    const sinks = [
      {
        name: 'influx',
        stats: () => ({ spool_bytes: 0, spool_points: 0, points_written: 1, points_dropped: 0 }),
      },
      { name: 'bridge', stats: () => ({ bridge_connected: 1, bridge_queue_bytes: 0 }) },
    ];
    const metrics = new GatewayMetrics(state, () => sinks);
    metrics.watchBroker(() => ({ clients: 0 }));
    metrics.watchDisk(mkdtempSync(path.join(os.tmpdir(), 'gh-rules-')));
    const exported = new Set([...(await metrics.text()).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!));
    for (const { alert, expr } of rules) {
      for (const [name] of expr.matchAll(/\bgatehouse_\w+/g))
        expect(exported, `${alert}: ${name}`).toContain(name);
    }
  });
});
