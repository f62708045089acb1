import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, freePort, ROOT, startProcess, startTs, type Proc } from './procs.ts';

export const TEST_TOKEN = 'test-admin-token-0123456789';

export interface GatewayProc {
  proc: Proc;
  api: string;
  mqttPort: number;
  dataDir: string;
  configFile: string;
  /** fetch against the API with the admin token. */
  get(p: string): Promise<{ status: number; body: Record<string, unknown> }>;
  post(p: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Any method (PUT, DELETE…) with the admin token. */
  request(
    method: string,
    p: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

/**
 * Every gateway's output, beside the secrets it was given, for the last test of the suite
 * (test/logs): no token, password, key or hash may appear in what a gateway printed.
 */
export const GATEWAY_LOGS = path.join(ROOT, 'test-results', 'gateway-logs');

/** Values of the environment a gateway gets that are credentials, by the variable's name. */
const SECRET_NAME = /TOKEN|PASS|PW|SECRET|KEY|HMAC/i;

function recordOutput(proc: Proc, yaml: string, env: Record<string, string>, extra: string[]): void {
  mkdirSync(GATEWAY_LOGS, { recursive: true });
  const base = path.join(GATEWAY_LOGS, `${Date.now()}-${proc.pid}`);
  const fromEnv = Object.entries(env)
    .filter(([k, v]) => SECRET_NAME.test(k) && v.length >= 8)
    .map(([, v]) => v);
  const hashes = yaml.match(/(sha256|scrypt)\$[^\s'"]+/g) ?? [];
  writeFileSync(`${base}.secrets.json`, JSON.stringify([...new Set([...fromEnv, ...hashes, ...extra])]));
  const append = (chunk: Buffer) => appendFileSync(`${base}.log`, chunk);
  proc.child.stdout?.on('data', append);
  proc.child.stderr?.on('data', append);
}

/** Run the real gateway (`gatehouse start`) as its own process on a config written here. */
export async function startGateway(
  yaml: string,
  opts: {
    env?: Record<string, string>;
    dataDir?: string;
    apiPort?: number;
    mqttPort?: number;
    /** Run the gateway under this command, e.g. ['unshare', '-m'] for a mount namespace of its own. */
    prefix?: string[];
    /** Credentials the gateway knows that are not in its environment (a token whose hash is in the YAML). */
    secrets?: string[];
  } = {},
): Promise<GatewayProc> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-gw-'));
  const configFile = path.join(dir, 'village.yaml');
  writeFileSync(configFile, yaml);
  const apiPort = opts.apiPort ?? (await freePort());
  const mqttPort = opts.mqttPort ?? (await freePort());
  const dataDir = opts.dataDir ?? path.join(dir, 'data');
  const launch = (script: string, args: string[], o: Parameters<typeof startTs>[2]) =>
    opts.prefix
      ? startProcess(
          opts.prefix[0]!,
          [...opts.prefix.slice(1), process.execPath, '--import', 'tsx', path.join(ROOT, script), ...args],
          o,
        )
      : startTs(script, args, o);
  const proc = launch(
    'gateway/cli/main.ts',
    [
      'start',
      '--config',
      configFile,
      '--api-port',
      String(apiPort),
      '--api-host',
      '127.0.0.1',
      '--mqtt-port',
      String(mqttPort),
      '--data-dir',
      dataDir,
    ],
    {
      env: {
        ...process.env,
        GATEHOUSE_API_TOKEN: TEST_TOKEN,
        GATEHOUSE_MQTT_USER: 'admin',
        GATEHOUSE_MQTT_PASSWORD: 'admin-pass',
        GATEHOUSE_LOG_LEVEL: 'info',
        ...opts.env,
      },
    },
  );
  recordOutput(
    proc,
    yaml,
    { GATEHOUSE_API_TOKEN: TEST_TOKEN, GATEHOUSE_MQTT_PASSWORD: 'admin-pass', ...opts.env },
    opts.secrets ?? [],
  );
  await proc.waitFor(/gateway ready/, 60_000);
  const api = `http://127.0.0.1:${apiPort}`;
  const call = async (method: string, p: string, body?: unknown, token = TEST_TOKEN) => {
    const res = await fetch(api + p, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  return {
    proc,
    api,
    mqttPort,
    dataDir,
    configFile,
    get: (p) => call('GET', p),
    post: (p, body, token) => call('POST', p, body, token),
    request: (method, p, body) => call(method, p, body),
  };
}

/** A barrier controller simulator process on Modbus TCP, with its control interface. */
export async function startBarrierSim(
  extra: string[] = [],
  ports?: { modbus: number; control: number },
): Promise<{ proc: Proc; modbus: number; control: string; ports: { modbus: number; control: number } }> {
  const modbus = ports?.modbus ?? (await freePort());
  const control = ports?.control ?? (await freePort());
  const proc = startTs('device-sims/main.ts', [
    'barrier',
    '--tcp',
    `127.0.0.1:${modbus}`,
    '--control',
    `127.0.0.1:${control}`,
    ...extra,
  ]);
  await proc.waitFor(/listening/, 30_000);
  return { proc, modbus, control: `http://127.0.0.1:${control}`, ports: { modbus, control } };
}

export async function simControl(
  control: string,
  p: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(control + p, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  return (await res.json()) as Record<string, unknown>;
}

export function barrierYaml(modbusPort: number, extra = ''): string {
  return `village: testville
buses:
  - id: tcp-1
    type: tcp
    host: 127.0.0.1
    port: ${modbusPort}
    timeoutMs: 300
devices:
  - id: barrier-1
    kind: barrier
    driver: modbus
    bus: tcp-1
    unit: 1
    profile: northgate-hr
    site: north-lot
    lane: lane-1
    pollMs: 200
${extra}`;
}

/** What GET /api/v1/devices/:id answers, as tests read it. */
export interface DeviceView {
  id: string;
  health: { status: string; reason?: string; detail?: string };
  fields: Record<string, unknown>;
  recentEvents: { type: string; detail: string; data?: Record<string, unknown> }[];
}

/** Poll a device through the API until `holds` is true of it; answers that view. */
export async function deviceWhen(
  gw: GatewayProc,
  id: string,
  holds: (d: DeviceView) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<DeviceView> {
  return eventually(
    async () => {
      const d = (await gw.get(`/api/v1/devices/${id}`)).body as unknown as DeviceView;
      return d.health && holds(d) ? d : undefined;
    },
    { what: `${id}: ${what}`, timeoutMs },
  );
}
