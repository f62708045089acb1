import { parseArgs } from 'node:util';
import { Camera } from './camera.ts';
import { createControlServer } from './control.ts';
import { FAULTS, type CameraConfig, type ClockMode, type FaultName, type SnapshotAuth } from './state.ts';
import { snapshotJpeg } from './scene.ts';

export const HELP = `Simulated ONVIF night-vision camera (Profile S/T subset) for Gatehouse.

Usage: npm run sim -- probe [options]

  --http HOST:PORT          device web server (SOAP + snapshot)       [127.0.0.1:0]
  --rtsp HOST:PORT          RTSP responder                             [<http host>:0]
  --control HOST:PORT       JSON control interface                     [127.0.0.1:0]
  --user U --password P     ONVIF/HTTP/RTSP credentials                [admin / admin]
  --skew-s N                camera clock runs N seconds off            [0]
  --clock day|night|auto    scene light; auto follows the camera clock [day]
  --utc-offset-h N          camera time zone (local time = UTC + N h)  [0]
  --manufacturer NAME --model NAME --serial S --firmware V --name NAME --location L
  --snapshot-auth digest|basic|none                                    [digest]
  --auth-window-s N         WS-Security Created tolerance              [300]
  --discovery-port N        WS-Discovery UDP port, 0 = pick one        [3702]
  --discovery-iface ADDR    interface for the multicast group          [127.0.0.1]
  --no-discovery            no WS-Discovery
  --fault NAME              start with a fault active (repeatable): ${FAULTS.join(', ')}
  --delay-ms N              delay of the slow fault                    [2000]
  --count N                 N cameras in this process on consecutive ports (port 0: all random);
                            one control port for all: /cam/N/state or ?cam=N (0-based)
  --help

Prints one line per camera once it is ready:
  probe-sim listening cam=0 device_service=http://... rtsp=rtsp://... control=http://... snapshot=http://... discovery=PORT serial=S

Control interface: GET /state, GET /cams, POST /fault {"fault":NAME,"active":bool,"delayMs"?,"skewS"?},
POST /clock {"mode":"day"|"night"|"auto"}, POST /event {"type":"motion"|"tamper","active":bool},
POST /reboot {"downMs"?}. See device-sims/probe/README.md.`;

function usage(msg: string): never {
  throw new Error(`${msg}\n\n${HELP}`);
}

export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65535) usage(`${flag} wants HOST:PORT, got "${value}"`);
  return { host: (m[1] ?? m[2])!, port };
}

function intOpt(
  value: string | undefined,
  flag: string,
  fallback: number,
  min = -Infinity,
  max = Infinity,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    usage(`${flag} wants an integer in ${min}..${max}, got "${value}"`);
  return n;
}

function oneOf<T extends string>(
  value: string | undefined,
  flag: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value))
    usage(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

export interface ProbeSimOptions {
  cameras: CameraConfig[];
  control: { host: string; port: number };
  faults: FaultName[];
  delayMs: number | undefined;
}

export function parseProbeArgs(argv: string[]): ProbeSimOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      http: { type: 'string' },
      rtsp: { type: 'string' },
      control: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'skew-s': { type: 'string' },
      clock: { type: 'string' },
      'utc-offset-h': { type: 'string' },
      manufacturer: { type: 'string' },
      model: { type: 'string' },
      serial: { type: 'string' },
      firmware: { type: 'string' },
      name: { type: 'string' },
      location: { type: 'string' },
      'snapshot-auth': { type: 'string' },
      'auth-window-s': { type: 'string' },
      'discovery-port': { type: 'string' },
      'discovery-iface': { type: 'string' },
      'no-discovery': { type: 'boolean' },
      fault: { type: 'string', multiple: true },
      'delay-ms': { type: 'string' },
      count: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const http = parseHostPort(values.http ?? '127.0.0.1:0', '--http');
  const rtsp = values.rtsp ? parseHostPort(values.rtsp, '--rtsp') : { host: http.host, port: 0 };
  const control = parseHostPort(values.control ?? '127.0.0.1:0', '--control');
  const count = intOpt(values.count, '--count', 1, 1, 1000);
  const discoveryPort = intOpt(values['discovery-port'], '--discovery-port', 3702, 0, 65535);
  const faults = (values.fault ?? []).map((f) => oneOf(f, '--fault', FAULTS, 'slow'));
  const base = {
    user: values.user ?? 'admin',
    password: values.password ?? 'admin',
    skewS: intOpt(values['skew-s'], '--skew-s', 0),
    clock: oneOf<ClockMode>(values.clock, '--clock', ['day', 'night', 'auto'], 'day'),
    utcOffsetH: intOpt(values['utc-offset-h'], '--utc-offset-h', 0, -12, 14),
    manufacturer: values.manufacturer ?? 'Gatehouse',
    model: values.model ?? 'GH-IR200',
    firmware: values.firmware ?? 'V2.4.1 build 240611',
    snapshotAuth: oneOf<SnapshotAuth>(
      values['snapshot-auth'],
      '--snapshot-auth',
      ['digest', 'basic', 'none'],
      'digest',
    ),
    authWindowS: intOpt(values['auth-window-s'], '--auth-window-s', 300, 1),
    discovery: !values['no-discovery'],
    discoveryIface: values['discovery-iface'] ?? '127.0.0.1',
    maxPullTimeoutS: 120,
  };
  // Distinct serials (and so distinct discovery endpoint ids) across processes and cameras.
  const serialBase = values.serial ?? `GHP${process.pid.toString().padStart(7, '0')}`;
  const next = (port: number, i: number) => (port === 0 ? 0 : port + i);
  const cameras = Array.from({ length: count }, (_, i): CameraConfig => ({
    ...base,
    index: i,
    host: http.host,
    httpPort: next(http.port, i),
    rtspHost: rtsp.host,
    rtspPort: next(rtsp.port, i),
    serial: count > 1 ? `${serialBase}-${i}` : serialBase,
    hardwareId: '1A2B',
    name: `${values.name ?? 'Gate probe'}${count > 1 ? ` ${i + 1}` : ''}`,
    location: values.location ?? 'village/gate',
    // One port for all: multicast reaches every camera (reuseAddr); 0 gives each its own.
    discoveryPort,
  }));
  return {
    cameras,
    control,
    faults,
    delayMs: values['delay-ms'] === undefined ? undefined : intOpt(values['delay-ms'], '--delay-ms', 0, 0),
  };
}

/** Entry point used by device-sims/main.ts: resolves once every camera is listening. */
export async function run(argv: string[]): Promise<void> {
  const opts = parseProbeArgs(argv);
  if (opts === 'help') {
    console.log(HELP);
    return;
  }
  const cams = opts.cameras.map((c) => new Camera(c));
  for (const cam of cams) {
    await cam.start();
    for (const f of opts.faults)
      cam.state.setFault(f, true, opts.delayMs === undefined ? {} : { delayMs: opts.delayMs });
    if (opts.delayMs !== undefined) cam.state.delayMs = opts.delayMs;
    await cam.syncListeners();
  }
  const control = createControlServer(cams);
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(opts.control.port, opts.control.host, resolve);
  });
  // Render the first snapshot now so the first client does not wait for the encoder.
  setImmediate(() => cams[0] && snapshotJpeg(cams[0].sceneLook()));
  const addr = control.address();
  const controlPort = addr && typeof addr === 'object' ? addr.port : opts.control.port;
  const controlBase = `http://${opts.control.host}:${controlPort}`;

  // Signal handlers before the "listening" line: whoever reads it may stop us at once.
  let closing = false;
  const shutdown = async () => {
    if (closing) return; // Ctrl-C relayed by npm/tsx arrives twice
    closing = true;
    control.close();
    await Promise.allSettled(cams.map((c) => c.close()));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());

  cams.forEach((cam, i) => {
    const u = cam.urls;
    const d = cam.discovery;
    const discovery = cam.state.config.discovery
      ? `${d.port}${d.multicastError ? ` (multicast off: ${d.multicastError})` : ''}`
      : 'off';
    console.log(
      `probe-sim listening cam=${i} device_service=${u.device} rtsp=${u.rtsp('Profile_1')} control=${cams.length > 1 ? `${controlBase}/cam/${i}` : controlBase} snapshot=${u.snapshot('Profile_1')} discovery=${discovery} serial=${cam.state.config.serial}`,
    );
  });
}
