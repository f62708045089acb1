import { GatehouseError } from '../errors.ts';
import { parse } from './args.ts';
import { GATEWAY_OPTIONS, GATEWAY_USAGE, gatewayClient } from './gateway-client.ts';
import { progressBar } from './progress.ts';

const USAGE = `usage: gatehouse scan-modbus --bus ID [--units 1-247] [--url URL] [options]

Sweep a Modbus bus of a running gateway for barrier controllers: each unit id is tried
once, through the same line the gateway polls (at low priority and a bounded rate, so the
barriers on it keep being polled), and every unit that answers is matched against the
known profiles by their signature registers. Prints what it found and how to add it.

options:
  --bus ID         the bus to sweep, as under buses: in the village config
  --units LIST     unit ids: a range and/or a list, e.g. 1-247 (default) or 1,2,5-9
  --timeout-ms N   wait per unit (default 150; a slow serial device server may want more)
${GATEWAY_USAGE}
  --json           print the units found as JSON`;

interface Hit {
  unit: number;
  profiles: string[];
  detail?: string;
  info?: Record<string, string>;
  device?: Record<string, unknown>;
}

interface Job {
  id: string;
  state: 'running' | 'done' | 'failed';
  progress: { done: number; total: number; found: number };
  result?: Hit[];
  error?: string;
}

export async function scanModbus(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      ...GATEWAY_OPTIONS,
      bus: { type: 'string' },
      units: { type: 'string' },
      'timeout-ms': { type: 'string' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  if (!values.bus) throw new GatehouseError('GH_CLI_USAGE', [`give --bus ID\n\n${USAGE}`]);
  const client = gatewayClient(values);
  const body = {
    units: values.units ?? '1-247',
    ...(values['timeout-ms'] ? { timeoutMs: Number(values['timeout-ms']) } : {}),
  };
  let job = await client.call<Job>(
    'POST',
    `/api/v1/commissioning/buses/${encodeURIComponent(values.bus)}/scan`,
    body,
  );
  const bar = progressBar(`bus ${values.bus}`, 'found');
  try {
    while (job.state === 'running') {
      bar.update(job.progress);
      await new Promise((r) => setTimeout(r, 250));
      job = await client.call<Job>('GET', `/api/v1/commissioning/jobs/${job.id}`);
    }
    bar.update(job.progress);
  } finally {
    bar.stop();
  }
  if (job.state === 'failed') {
    console.error(`error: the sweep failed on the gateway: ${job.error ?? 'no reason given'}`);
    process.exitCode = 2;
    return;
  }
  const hits = job.result ?? [];
  if (values.json) {
    console.log(JSON.stringify(hits, null, 2));
    return;
  }
  if (hits.length === 0) {
    console.log(`no unit answered on bus ${values.bus} (units ${body.units})`);
    return;
  }
  for (const h of hits) {
    const info = h.info
      ? ` (${Object.entries(h.info)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`
      : '';
    const what = h.profiles.length > 0 ? h.profiles.join(' or ') : (h.detail ?? 'no known profile');
    console.log(`unit ${String(h.unit).padStart(3)}  ${what}${info}`);
  }
  const first = hits.find((h) => h.device);
  if (first?.device) {
    const d = first.device;
    console.log(
      `\nadd one with: gatehouse add device id=NAME kind=${String(d.kind)} driver=${String(d.driver)} ` +
        `bus=${String(d.bus)} unit=${String(d.unit)} profile=${String(d.profile)}`,
    );
  }
}
