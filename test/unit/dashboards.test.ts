import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { BusMessage } from '../../gateway/core/bus.ts';
import { BarrierFieldsSchema, ProbeFieldsSchema } from '../../drivers/contract/canonical.ts';
import { DOWNSAMPLED_MEASUREMENTS, fieldsOf } from '../../gateway/sinks/influx/points.ts';
import { DOWNSAMPLED_RP, RAW_RP } from '../../gateway/sinks/influx/schema.ts';
import { ROOT } from '../../device-sims/harness/child.ts';

/**
 * The Grafana dashboards are data that must match what the gateway writes: every panel
 * queries the provisioned InfluxDB datasource, and every InfluxQL query names only
 * canonical measurements, tags and fields (mean_<field> in the downsampled policy).
 */

const GRAFANA = path.join(ROOT, 'dashboards', 'grafana');
const DASHBOARD_DIR = path.join(GRAFANA, 'dashboards');
const DATABASE = 'gatehouse';
const TAGS = ['village', 'device', 'kind', 'site', 'lane'];

const device = { id: 'd', kind: 'barrier' as const };
const written = (msg: BusMessage) => Object.keys(fieldsOf(msg));
/** Fields per measurement: the canonical schemas, and for health and events what the writer emits. */
const FIELDS: Record<string, string[]> = {
  barrier: Object.keys(BarrierFieldsSchema.properties),
  probe: Object.keys(ProbeFieldsSchema.properties),
  device_health: written({
    type: 'health',
    device,
    health: { status: 'online', since: '' },
    errors: 0,
    pollMs: 1,
    time: 0,
  }),
  events: written({
    type: 'event',
    device,
    event: { type: 'command', detail: '', commandId: 'c', actor: 'a' },
    time: 0,
  }),
  // README, Interfaces: InfluxDB: the gateway's own stats.
  gateway: ['cpu', 'rss_mb', 'spool_bytes', 'queue_depth', 'points_written', 'points_dropped'],
};

/** Unquoted words a query may hold: InfluxQL keywords and the functions the dashboards use. */
const KEYWORDS = new Set(
  (
    'select from where and or not group by time fill null none previous linear order asc desc ' +
    'limit slimit offset as show tag values with key in true false now ' +
    'last first mean median max min sum count spread distinct abs ' +
    'derivative non_negative_derivative difference non_negative_difference moving_average'
  ).split(' '),
);

interface Source {
  rp?: string;
  measurement: string;
}

/** Measurements named after FROM (subqueries `FROM (` are skipped), with their retention policy. */
function sources(q: string): Source[] {
  const out: Source[] = [];
  for (const m of q.matchAll(/\bFROM\s+((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+)){0,2})/gi)) {
    const parts = m[1]!.split('.').map((p) => p.replace(/^"|"$/g, ''));
    if (parts.length === 3 && parts[0] !== DATABASE) throw new Error(`database ${parts[0]} in: ${q}`);
    out.push({
      measurement: parts[parts.length - 1]!,
      rp: parts.length > 1 ? parts[parts.length - 2] : undefined,
    });
  }
  return out;
}

/** Every problem with one InfluxQL query; empty when it names only canonical things. */
function queryProblems(q: string): string[] {
  const problems: string[] = [];
  let from: Source[];
  try {
    from = sources(q);
  } catch (err) {
    return [(err as Error).message];
  }
  if (from.length === 0) return [`no FROM measurement: ${q}`];
  const allowed = new Set([DATABASE, RAW_RP, DOWNSAMPLED_RP, ...TAGS]);
  for (const s of from) {
    allowed.add(s.measurement);
    const fields = FIELDS[s.measurement];
    if (!fields) {
      problems.push(`measurement "${s.measurement}" is not canonical`);
      continue;
    }
    if (/^\s*SELECT/i.test(q) && s.rp !== RAW_RP && s.rp !== DOWNSAMPLED_RP) {
      problems.push(`"${s.measurement}" without retention policy ${RAW_RP} or ${DOWNSAMPLED_RP}`);
    }
    if (s.rp === DOWNSAMPLED_RP) {
      if (!DOWNSAMPLED_MEASUREMENTS.includes(s.measurement as never))
        problems.push(`"${s.measurement}" is not downsampled`);
      for (const f of fields) allowed.add(`mean_${f}`);
    } else {
      for (const f of fields) allowed.add(f);
    }
  }
  for (const m of q.matchAll(/\bAS\s+"([^"]+)"/gi)) allowed.add(m[1]!);
  for (const m of q.matchAll(/"([^"]+)"/g)) {
    if (!allowed.has(m[1]!))
      problems.push(
        `"${m[1]}" is not a canonical tag or field of ${from.map((s) => s.measurement).join(', ')}`,
      );
  }
  const bare = q
    .replace(/"[^"]*"/g, ' ')
    .replace(/'(?:\\'|[^'])*'/g, ' ')
    .replace(/\/(?:\\\/|[^/])*\//g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\b\d+(?:\.\d+)?[a-zµ]*\b/gi, ' ');
  for (const w of bare.match(/[A-Za-z_]\w*/g) ?? []) {
    if (!KEYWORDS.has(w.toLowerCase())) problems.push(`unquoted identifier or unknown word "${w}"`);
  }
  return problems;
}

interface Target {
  refId?: string;
  query?: string;
  rawQuery?: boolean;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: { name: string; query?: string; datasource?: { uid?: string } }[] };
  annotations?: { list: { name: string; query?: string; datasource?: { uid?: string } }[] };
}

const flatten = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...flatten(p.panels ?? [])]);

const datasources = parse(
  readFileSync(path.join(GRAFANA, 'provisioning', 'datasources', 'influxdb.yaml'), 'utf8'),
) as { datasources: { uid: string; type: string; url: string; jsonData: { dbName: string } }[] };
const datasource = datasources.datasources[0]!;
const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json'));
const dashboards = files.map(
  (f) => [f, JSON.parse(readFileSync(path.join(DASHBOARD_DIR, f), 'utf8')) as Dashboard] as const,
);

describe('Grafana provisioning', () => {
  it('provisions the InfluxDB datasource of the compose stack, database gatehouse', () => {
    expect(datasources.datasources).toHaveLength(1);
    expect(datasource).toMatchObject({ type: 'influxdb', url: 'http://influxdb:8086' });
    expect(datasource.jsonData.dbName).toBe(DATABASE);
  });

  it('loads dashboards from the folder docker-compose.yml mounts', () => {
    const provider = parse(
      readFileSync(path.join(GRAFANA, 'provisioning', 'dashboards', 'gatehouse.yaml'), 'utf8'),
    ) as { providers: { options: { path: string } }[] };
    const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: { grafana: { volumes: string[] } };
    };
    const mount = `./dashboards/grafana/dashboards:${provider.providers[0]!.options.path}:ro`;
    expect(compose.services.grafana.volumes).toContain(mount);
    expect(files.length).toBeGreaterThan(0);
  });
});

describe.each(dashboards)('dashboard %s', (_file, dash) => {
  const panels = flatten(dash.panels).filter((p) => p.type !== 'row');
  const queries = [
    ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, q: t.query ?? '' }))),
    ...(dash.templating?.list ?? []).map((v) => ({ where: `variable ${v.name}`, q: v.query ?? '' })),
    ...(dash.annotations?.list ?? []).filter((a) => a.query).map((a) => ({ where: a.name, q: a.query! })),
  ];

  it('has a uid, a title and unique panel ids', () => {
    expect(dash.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dash.title).toBeTruthy();
    const ids = flatten(dash.panels).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every panel the provisioned datasource and at least one raw InfluxQL target', () => {
    expect(panels.length).toBeGreaterThan(0);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'influxdb', uid: datasource.uid });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
      for (const t of p.targets!) {
        expect(t.datasource?.uid, p.title).toBe(datasource.uid);
        expect(t.rawQuery, p.title).toBe(true);
        expect(t.query, p.title).toMatch(/^SELECT /);
      }
    }
    for (const x of [...(dash.templating?.list ?? []), ...(dash.annotations?.list ?? [])].filter(
      (x) => x.query,
    ))
      expect(x.datasource?.uid).toBe(datasource.uid);
  });

  it('queries only canonical measurements, tags and fields', () => {
    for (const { where, q } of queries) expect(queryProblems(q), `${where}: ${q}`).toEqual([]);
  });

  it('scopes every SELECT to the dashboard time range and village', () => {
    for (const { where, q } of queries.filter((x) => x.q.startsWith('SELECT'))) {
      expect(q, where).toContain('$timeFilter');
      expect(q, where).toContain('"village" =~ /^$village$/');
    }
  });

  // The other dashboards each cover one subject; test/integration/dashboards-data.test.ts runs them all.
  it.runIf(dash.uid === 'gatehouse-village-overview')(
    'covers the overview: health, arm state, vehicle rates, events, probes, gateway',
    () => {
      const all = queries.map((x) => x.q).join('\n');
      for (const needle of [
        '"device_health"',
        'last("arm_state")',
        'non_negative_derivative(last("vehicles_in")',
        'non_negative_derivative(last("vehicles_out")',
        '."events"',
        '"snapshot_luma"',
        '"clock_skew_s"',
        '"points_written"',
        '"spool_bytes"',
        '"rss_mb"',
        `"${DOWNSAMPLED_RP}"`,
      ])
        expect(all).toContain(needle);
    },
  );
});

describe('the query check itself', () => {
  const rp = `"${DATABASE}"."${RAW_RP}"`;
  it('accepts a canonical query', () => {
    expect(queryProblems(`SELECT mean("supply_v") FROM ${rp}."barrier" WHERE "lane" = 'a'`)).toEqual([]);
  });
  it('rejects unknown fields, measurements, policies and unquoted identifiers', () => {
    expect(queryProblems(`SELECT mean("arm_speed") FROM ${rp}."barrier"`)).toEqual([
      '"arm_speed" is not a canonical tag or field of barrier',
    ]);
    expect(queryProblems(`SELECT mean("x") FROM ${rp}."cameras"`)[0]).toMatch(/"cameras" is not canonical/);
    expect(queryProblems(`SELECT mean("supply_v") FROM "barrier"`)[0]).toMatch(/without retention policy/);
    expect(queryProblems(`SELECT mean(supply_v) FROM ${rp}."barrier"`)).toEqual([
      'unquoted identifier or unknown word "supply_v"',
    ]);
    expect(queryProblems(`SELECT mean("supply_v") FROM "${DATABASE}"."${DOWNSAMPLED_RP}"."barrier"`)).toEqual(
      ['"supply_v" is not a canonical tag or field of barrier'],
    );
  });
});
