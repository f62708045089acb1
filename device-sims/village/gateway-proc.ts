import { startTs, type Proc } from '../harness/child.ts';

export interface GatewayProcOptions {
  configFile: string;
  apiPort: number;
  mqttPort: number;
  dataDir: string;
  influxUrl?: string;
  env: Record<string, string>;
  /** Pass the gateway's output through to this process's own (the demo's terminal). */
  echo?: boolean;
}

/** `gatehouse start …` for a village on loopback, as the demo, the tests and the benchmarks start it. */
export function gatewayStartArgs(o: Omit<GatewayProcOptions, 'env' | 'echo'>): string[] {
  return [
    'start',
    '--config',
    o.configFile,
    '--api-port',
    String(o.apiPort),
    // A simulated village stays on this machine: loopback only.
    '--api-host',
    '127.0.0.1',
    '--mqtt-port',
    String(o.mqttPort),
    '--data-dir',
    o.dataDir,
    ...(o.influxUrl ? ['--influx-url', o.influxUrl] : []),
  ];
}

/**
 * The real gateway (`gatehouse start`) as its own process, on loopback: the demo
 * launches it like any other program and knows nothing of its insides.
 */
export function startGatewayProcess(o: GatewayProcOptions): Proc {
  const gateway = startTs('gateway/cli/main.ts', gatewayStartArgs(o), {
    env: {
      ...process.env,
      ...o.env,
      ...(o.echo && process.stdout.isTTY ? { GATEHOUSE_LOG_FORMAT: 'pretty' } : {}),
    },
  });
  if (o.echo) {
    gateway.child.stdout?.pipe(process.stdout);
    gateway.child.stderr?.pipe(process.stderr);
  }
  return gateway;
}

/** Resolves once every device of the gateway at `api` is online or degraded; the device count. */
export async function devicesUp(api: string, token: string, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${api}/api/v1/devices`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { devices: { health: { status: string } }[] };
      if (body.devices.length > 0 && body.devices.every((d) => d.health.status !== 'offline'))
        return body.devices.length;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`devices at ${api} not online within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
