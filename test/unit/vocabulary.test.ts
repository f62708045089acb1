import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  BARRIER_FAULT,
  BARRIER_FAULT_WORDS,
  crewWords,
  HEALTH_REASON_WORDS,
  HEALTH_REASONS,
  HealthReasonSchema,
} from '../../drivers/contract/health.ts';
import { BARRIER_ACTION_WORDS, BARRIER_ACTIONS } from '../../drivers/contract/driver.ts';
import { COMMANDS } from '../../drivers/modbus/profile.ts';
import { CommandRequestSchema } from '../../gateway/commands/schema.ts';
import { ERRORS, GatehouseError, type ErrorCode } from '../../gateway/errors.ts';
import { mayPublish, maySubscribe, type MqttIdentity } from '../../gateway/broker/acl.ts';
import { GatehouseBroker } from '../../gateway/broker/broker.ts';
import { topicPrefix } from '../../gateway/broker/config.ts';
import {
  deviceTopic,
  gatewayStatusTopic,
  INBOUND,
  PREFIX_PATTERN,
  TOPICS,
  villagePrefix,
  type DeviceTopicName,
  type TopicName,
} from '../../gateway/broker/topics.ts';
import { buildApi } from '../../gateway/api/server.ts';
import type { ApiContext } from '../../gateway/api/context.ts';
import { assertBlock, markdownTable, ROOT } from '../helpers/doc-blocks.ts';

// One source per vocabulary; this walks each and fails when a doc, the status page, a
// schema or the ACL says otherwise. Out-of-date blocks print the block to paste.

const README = path.join(ROOT, 'README.md');
const readme = readFileSync(README, 'utf8');
const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const consts = (schema: unknown) =>
  ((schema as { anyOf: { const?: string }[] }).anyOf ?? []).flatMap((s) => (s.const ? [s.const] : []));

async function api() {
  const ctx = { village: 'v', tokens: [] } as unknown as ApiContext;
  return buildApi(ctx, pino({ level: 'silent' }));
}

describe('health reasons (drivers/contract/health.ts)', () => {
  it('each says what it means and what to check', () => {
    for (const [reason, w] of Object.entries(HEALTH_REASON_WORDS)) {
      expect(w.means, reason).toMatch(/\S{3}/);
      expect(w.check, reason).toMatch(/\S{3}/);
    }
    expect(crewWords('barrier-fault:7')).toBe(BARRIER_FAULT_WORDS.replace('{code}', '7'));
  });

  it('README.md lists them with the crew words', () => {
    const family = `${BARRIER_FAULT.prefix}<${BARRIER_FAULT.param}>`;
    const lines = [
      ...HEALTH_REASONS.map((r) => `- \`${r}\`: ${crewWords(r)}`),
      `- \`${family}\`: ${BARRIER_FAULT_WORDS.replace(`{${BARRIER_FAULT.param}}`, `\`<${BARRIER_FAULT.param}>\``)}`,
    ];
    assertBlock(README, 'health-reasons', lines.join('\n'));
  });

  it('README.md troubleshooting names only known reasons', () => {
    const named = [...readme.matchAll(/`(?:online|degraded|offline) \(([^)]+)\)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const r of named) expect(Value.Check(HealthReasonSchema, r), r).toBe(true);
  });

  it('the API schema enumerates them, with a pattern for barrier-fault:<code>', async () => {
    expect(consts(HealthReasonSchema)).toEqual(HEALTH_REASONS);
    for (const ok of ['timeout', 'barrier-fault:7', 'barrier-fault:-2'])
      expect(Value.Check(HealthReasonSchema, ok), ok).toBe(true);
    for (const bad of ['sunspots', 'barrier-fault:', 'barrier-fault:x', 'Timeout'])
      expect(Value.Check(HealthReasonSchema, bad), bad).toBe(false);
    const app = await api();
    try {
      const doc = (await app.inject({ url: '/docs/json' })).json() as {
        paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
      };
      const view = doc.paths['/api/v1/devices/{id}']!.get!.responses['200'] as {
        content: {
          'application/json': { schema: { properties: { health: { properties: { reason: unknown } } } } };
        };
      };
      const reason = view.content['application/json'].schema.properties.health.properties.reason as {
        anyOf: { const?: string; enum?: string[]; pattern?: string }[];
      };
      const listed = reason.anyOf.flatMap((s) => s.enum ?? (s.const ? [s.const] : []));
      expect(listed).toEqual(HEALTH_REASONS);
      expect(reason.anyOf.map((s) => s.pattern).filter(Boolean)).toEqual([BARRIER_FAULT.pattern]);
    } finally {
      await app.close();
    }
  });

  it('the status page shows the words the gateway serves and keeps no copy of its own', async () => {
    const app = await api();
    try {
      const vocab = (await app.inject({ url: '/status/vocabulary.json' })).json() as {
        healthReasons: Record<string, string>;
        healthReasonFamilies: { prefix: string; param: string; pattern: string; words: string }[];
        barrierActions: Record<string, string>;
      };
      expect(vocab.healthReasons).toEqual(Object.fromEntries(HEALTH_REASONS.map((r) => [r, crewWords(r)])));
      expect(vocab.healthReasonFamilies).toEqual([
        {
          prefix: BARRIER_FAULT.prefix,
          param: 'code',
          pattern: BARRIER_FAULT.pattern,
          words: BARRIER_FAULT_WORDS,
        },
      ]);
      expect(vocab.barrierActions).toEqual(BARRIER_ACTION_WORDS);
    } finally {
      await app.close();
    }
    const page = read('dashboards/status-page/status.js');
    expect(page).toContain("fetch('/status/vocabulary.json')");
    for (const [reason, w] of Object.entries(HEALTH_REASON_WORDS)) {
      expect(page).not.toContain(`'${reason}'`);
      expect(page).not.toContain(w.means);
    }
    for (const words of Object.values(BARRIER_ACTION_WORDS)) expect(page).not.toContain(words);
  });
});

describe('barrier actions (drivers/contract/driver.ts)', () => {
  it('README.md lists them with their words', () => {
    const lines = BARRIER_ACTIONS.map((a) => `- \`${a}\`: ${BARRIER_ACTION_WORDS[a]}`);
    assertBlock(README, 'barrier-actions', lines.join('\n'));
  });

  it('the command schema and the Modbus profiles take exactly these', () => {
    expect(consts(CommandRequestSchema.properties.action)).toEqual(BARRIER_ACTIONS);
    expect(COMMANDS).toEqual(BARRIER_ACTIONS);
    expect(Object.keys(BARRIER_ACTION_WORDS)).toEqual(BARRIER_ACTIONS);
  });

  it("README.md's example validation error names them all", () => {
    const flat = readme.replace(/\s+/g, ' ');
    expect(flat).toContain(`"body.action must be one of ${BARRIER_ACTIONS.join(', ')}"`);
  });
});

describe('MQTT topics (gateway/broker/topics.ts)', () => {
  const names = Object.keys(TOPICS) as TopicName[];
  const P = villagePrefix('v');

  it('keeps the names outside tools rely on', () => {
    expect(PREFIX_PATTERN).toBe('gatehouse/v1/<village>');
    expect(topicPrefix('v')).toBe(P);
    const retained = names.filter((n) => TOPICS[n].retained).map((n) => TOPICS[n].pattern);
    expect(names.map((n) => TOPICS[n].pattern)).toEqual([
      '<device>/telemetry',
      '<device>/state',
      '<device>/availability',
      '<device>/events',
      '<device>/cmd',
      '<device>/cmd/result',
      'gateway/status',
    ]);
    expect(retained).toEqual(['<device>/state', '<device>/availability', 'gateway/status']);
  });

  it('README.md lists them as the catalogue does', () => {
    const rows = names.map((n) => {
      const t: { pattern: string; retained: boolean; direction: string; qos?: number; payload: string } =
        TOPICS[n];
      return [
        `\`${t.pattern}\``,
        t.retained ? 'yes' : 'no',
        t.direction === 'out' ? 'gateway → clients' : 'platform → device',
        t.qos === undefined ? "publisher's" : String(t.qos),
        t.payload,
      ];
    });
    const header = [`topic (under \`${PREFIX_PATTERN}/\`)`, 'retained', 'direction', 'QoS', 'payload'];
    assertBlock(README, 'mqtt-topics', markdownTable(header, rows));
  });

  it('the ACL lets the platform address devices and devices publish only what is theirs', () => {
    const platform: MqttIdentity = { username: 'town', role: 'platform' };
    const device: MqttIdentity = { username: 'g1', role: 'device', device: 'g1' };
    const reader: MqttIdentity = { username: 'r', role: 'reader' };
    const inbound = (n: DeviceTopicName) => INBOUND.includes(n);
    const commandBranch = (n: DeviceTopicName) =>
      INBOUND.some(
        (i) =>
          TOPICS[n].pattern === TOPICS[i].pattern || TOPICS[n].pattern.startsWith(`${TOPICS[i].pattern}/`),
      );
    for (const n of names) {
      if (n === 'gatewayStatus') continue;
      const own = deviceTopic(P, n, 'g1');
      expect(mayPublish(platform, P, own), `platform publishes ${n}`).toBe(inbound(n));
      expect(mayPublish(device, P, own), `device publishes ${n}`).toBe(!commandBranch(n));
      expect(mayPublish(device, P, deviceTopic(P, n, 'g2')), `device publishes another's ${n}`).toBe(false);
      expect(maySubscribe(device, P, own), `device subscribes ${n}`).toBe(inbound(n));
      expect(mayPublish(reader, P, own)).toBe(false);
      expect(maySubscribe(reader, P, own)).toBe(true);
    }
    const status = gatewayStatusTopic(P);
    expect([platform, device, reader].map((id) => mayPublish(id, P, status))).toEqual([false, false, false]);
  });

  it('the broker announces the catalogue status topic and the central ACL grants each village its prefix', async () => {
    const broker = await GatehouseBroker.create({ village: 'v', log: pino({ level: 'silent' }), config: {} });
    try {
      expect(broker.statusTopic).toBe(gatewayStatusTopic(P));
    } finally {
      await broker.close();
    }
    const acl = read('deploy/mosquitto/acl')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));
    expect(acl).toEqual([`pattern readwrite ${PREFIX_PATTERN.replace('<village>', '%u')}/#`]);
  });
});

describe('error codes (gateway/errors.ts)', () => {
  const codes = Object.keys(ERRORS) as ErrorCode[];
  const self = path.relative(ROOT, new URL(import.meta.url).pathname);

  function files(dir: string): string[] {
    return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
      const rel = path.join(dir, name);
      if (statSync(path.join(ROOT, rel)).isDirectory()) return files(rel);
      return /\.(ts|js|md)$/.test(name) && rel !== self ? [rel] : [];
    });
  }
  const sources = ['gateway', 'drivers', 'docs', 'test'].flatMap(files).concat('README.md');

  it('every GH_ code anywhere is in the catalogue', () => {
    const unknown: string[] = [];
    for (const file of sources) {
      for (const [code] of read(file).matchAll(/\bGH_[A-Z][A-Z_]*/g)) {
        if (code.startsWith('GH_TEST_')) continue; // environment variables of the tests
        const known = code.endsWith('_') ? codes.some((c) => c.startsWith(code)) : code in ERRORS;
        if (!known) unknown.push(`${file}: ${code}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('every catalogue entry is used by the gateway', () => {
    const product = ['gateway', 'drivers'].flatMap(files).map(read).join('\n');
    const unused = codes.filter((c) => !product.includes(`'${c}'`));
    expect(unused).toEqual([]);
  });

  it('every message is a sentence with named placeholders, or the thrower’s sentence as {detail}', () => {
    for (const c of codes) {
      const { message, means } = ERRORS[c];
      expect(message, c).not.toContain('%s');
      if (message !== '{detail}')
        expect(message.replace(/\{\w+\}/g, '').match(/[a-z]{2,}/gi)?.length, c).toBeGreaterThan(1);
      expect(means, c).toMatch(/\S{3}/);
    }
    const byName = new GatehouseError('GH_DEVICE_NOT_BARRIER', { device: 'cam-1', kind: 'probe' }).message;
    expect(byName).toBe('device "cam-1" is a probe, not a barrier');
    expect(new GatehouseError('GH_DEVICE_NOT_BARRIER', ['cam-1', 'probe']).message).toBe(byName);
  });

  it('docs/errors.md lists them as the catalogue does', () => {
    const rows = codes.map((c) => [
      `\`${c}\``,
      String(ERRORS[c].status),
      `\`${ERRORS[c].message}\``,
      ERRORS[c].means,
    ]);
    assertBlock(
      path.join(ROOT, 'docs/errors.md'),
      'error-codes',
      markdownTable(['code', 'status', 'message', 'when'], rows),
    );
  });
});
