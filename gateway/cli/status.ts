import {
  BARRIER_FAULT,
  crewWords,
  HEALTH_REASON_WORDS,
  type HealthReason,
  type HealthStatus,
} from '../../drivers/contract/health.ts';
import { GatehouseError } from '../errors.ts';
import { parse } from './args.ts';
import { GatewayAnswer, gatewayClient } from './gateway-client.ts';

const USAGE = `usage: gatehouse status [--url URL] [--token TOKEN] [--json] [--timeout-ms N]

The health of a running gateway: one line per device (problems first) with its kind,
lane, state, reason and when it was last heard from, then what to check for each problem.

Exit code, for cron and monitoring systems:
  0  every device online
  1  something degraded (working, with a problem)
  2  something offline, or the gateway unreachable or refusing the token

options:
  --url URL        the gateway's API (default http://127.0.0.1:8080)
  --token TOKEN    a bearer token, reader role is enough (default: $GATEHOUSE_API_TOKEN;
                   prefer the variable: a flag shows in the process list)
  --json           print JSON (village, status, exitCode, counts, devices) instead of a table
  --timeout-ms N   give up on the gateway after N ms (default 5000)`;

interface DeviceAnswer {
  id: string;
  kind: string;
  site?: string;
  lane?: string;
  health: { status: HealthStatus; reason?: string; detail?: string; since?: string };
  lastSeen?: string;
}

const RANK: Record<HealthStatus, number> = { online: 0, degraded: 1, offline: 2 };
const EXIT: Record<HealthStatus, number> = { online: 0, degraded: 1, offline: 2 };

/** The crew's words for a reason; a reason newer than this CLI is shown as it is. */
function words(reason: string): string | undefined {
  const known = Object.hasOwn(HEALTH_REASON_WORDS, reason) || reason.startsWith(BARRIER_FAULT.prefix);
  return known ? crewWords(reason as HealthReason) : undefined;
}

function ago(iso: string | undefined, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172_800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The devices, or why not: an error answer becomes GH_STATUS_REFUSED with the gateway's own words. */
async function fetchDevices(client: ReturnType<typeof gatewayClient>) {
  try {
    return await client.call<{ village: string; devices: DeviceAnswer[] }>('GET', '/api/v1/devices');
  } catch (err) {
    if (!(err instanceof GatewayAnswer)) throw err;
    const detail = `${String(err.details?.code ?? err.code)}: ${err.message}`;
    throw new GatehouseError('GH_STATUS_REFUSED', { url: client.url, status: err.httpStatus, detail });
  }
}

export async function status(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      'timeout-ms': { type: 'string' },
    },
    USAGE,
  );
  const timeoutMs = Number(values['timeout-ms'] ?? 5000);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new GatehouseError('GH_CLI_USAGE', [`--timeout-ms must be a positive integer\n\n${USAGE}`]);
  }

  const client = gatewayClient(values, { timeoutMs, tokenRequired: false });
  const { url } = client;
  let answer: Awaited<ReturnType<typeof fetchDevices>>;
  try {
    answer = await fetchDevices(client);
  } catch (err) {
    // A monitoring system reading --json still gets a document, then the error line on stderr.
    if (values.json && err instanceof GatehouseError) {
      console.log(
        JSON.stringify({
          url,
          status: 'unreachable',
          exitCode: 2,
          error: { code: err.code, message: err.message },
        }),
      );
    }
    throw err;
  }

  const devices = [...answer.devices].sort(
    (a, b) => RANK[b.health.status] - RANK[a.health.status] || a.id.localeCompare(b.id),
  );
  const counts = { online: 0, degraded: 0, offline: 0 };
  for (const d of devices) counts[d.health.status]++;
  const worst: HealthStatus = counts.offline ? 'offline' : counts.degraded ? 'degraded' : 'online';
  process.exitCode = EXIT[worst];

  if (values.json) {
    const out = devices.map((d) => ({
      id: d.id,
      kind: d.kind,
      ...(d.site ? { site: d.site } : {}),
      ...(d.lane ? { lane: d.lane } : {}),
      status: d.health.status,
      ...(d.health.reason ? { reason: d.health.reason } : {}),
      ...(d.health.detail ? { detail: d.health.detail } : {}),
      ...(d.health.since ? { since: d.health.since } : {}),
      ...(d.lastSeen ? { lastSeen: d.lastSeen } : {}),
    }));
    console.log(
      JSON.stringify(
        { village: answer.village, url, status: worst, exitCode: EXIT[worst], counts, devices: out },
        null,
        2,
      ),
    );
    return;
  }

  const now = Date.now();
  console.log(
    `village ${answer.village}: ${devices.length} devices — ${counts.online} online, ${counts.degraded} degraded, ${counts.offline} offline`,
  );
  if (devices.length === 0) return;
  const rows = [['DEVICE', 'KIND', 'LANE', 'STATE', 'REASON', 'LAST SEEN']];
  for (const d of devices) {
    const { status: s, reason } = d.health;
    rows.push([d.id, d.kind, d.lane ?? '-', s, reason ?? '-', ago(d.lastSeen, now)]);
  }
  console.log(`\n${table(rows)}`);
  const problems = devices.filter((d) => d.health.status !== 'online' && d.health.reason);
  if (problems.length > 0) console.log('');
  for (const d of problems) {
    const said = words(d.health.reason!);
    const detail = d.health.detail ? ` (${d.health.detail})` : '';
    console.log(`${d.id}: ${said ?? d.health.reason}${detail}`);
  }
}
