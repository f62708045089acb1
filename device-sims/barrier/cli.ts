import { parseArgs } from 'node:util';
import { BarrierSim } from './barrier.ts';
import { startControl } from './control.ts';
import { UnitImage } from './image.ts';
import { listProfiles, loadProfile } from './profile.ts';
import { SimServer } from './server.ts';
import { parseFraming } from './timing.ts';

const HELP = `barrier controller simulator (Modbus TCP / RTU / RTU over TCP)

usage: sim barrier [listeners] [options]

listeners (any combination, at least one):
  --tcp HOST:PORT          Modbus TCP server (port 0 = pick a free one)
  --serial PATH            Modbus RTU on a serial device (e.g. one end of a socat pty pair)
  --rtu-tcp HOST:PORT      RTU framing over a TCP socket (serial device server mode)
  --control HOST:PORT      HTTP JSON control: GET /state, /stats, /closes; POST /fault, /traffic, /safety

options:
  --unit N | --units 1,2,3 unit ids served (default 1); several ids share one line like an RS-485 drop
  --profile NAME|FILE      register map (default northgate-hr; available: ${listProfiles().join(', ')})
  --baud N                 RTU baud rate for wire-time emulation (default 9600)
  --framing 8N1|8E1|8O1|8N2  RTU character framing, for wire time and the serial port (default 8N1)
  --latency-ms N           extra response latency per request (default 0)
  --open-ms N / --close-ms N  arm travel times (default 3000 / 3000)
  --traffic off|random|scripted  traffic model (default off); --rate-per-min N for random (default 6)
  --auto-open              controller opens by itself for a waiting car (default with random traffic)
  --blind                  a controller without its own safety: closes on a vehicle, never reverses
  --impact-angle N         an impact is the arm below N degrees onto a vehicle under it (default 30)
  --seed N                 random seed (default 1)
  --info NAME=VALUE        device information the profile's deviceInfo lays out (repeatable; e.g.
                           --info serial=ZLB30B00012345 --info firmware=2.1.7); default: made up per unit

prints one line with "listening" and the bound addresses; SIGINT/SIGTERM close cleanly.`;

function hostPort(s: string, flag: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(s);
  if (!m) throw new Error(`${flag} wants HOST:PORT, got "${s}"`);
  return [m[1]!.replace(/^\[|\]$/g, ''), Number(m[2])];
}

export async function run(argv: string[]): Promise<void> {
  const { values: o } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      tcp: { type: 'string' },
      serial: { type: 'string' },
      'rtu-tcp': { type: 'string' },
      control: { type: 'string' },
      unit: { type: 'string' },
      units: { type: 'string' },
      profile: { type: 'string', default: 'northgate-hr' },
      baud: { type: 'string', default: '9600' },
      framing: { type: 'string', default: '8N1' },
      'latency-ms': { type: 'string', default: '0' },
      'open-ms': { type: 'string', default: '3000' },
      'close-ms': { type: 'string', default: '3000' },
      traffic: { type: 'string', default: 'off' },
      'rate-per-min': { type: 'string', default: '6' },
      'auto-open': { type: 'boolean' },
      blind: { type: 'boolean' },
      'impact-angle': { type: 'string', default: '30' },
      seed: { type: 'string', default: '1' },
      info: { type: 'string', multiple: true },
    },
    strict: true,
  });
  if (o.help) {
    console.log(HELP);
    return;
  }
  if (!o.tcp && !o.serial && !o['rtu-tcp'])
    throw new Error('give at least one of --tcp, --serial, --rtu-tcp (see --help)');
  const traffic = o.traffic as 'off' | 'random' | 'scripted';
  if (!['off', 'random', 'scripted'].includes(traffic))
    throw new Error('--traffic must be off, random or scripted');
  const unitIds = (o.units ?? o.unit ?? '1').split(',').map((s) => Number(s.trim()));
  if (unitIds.some((u) => !Number.isInteger(u) || u < 1 || u > 247))
    throw new Error('unit ids must be 1..247');
  const profile = loadProfile(o.profile);
  const info: Record<string, string> = {};
  for (const kv of o.info ?? []) {
    const m = /^([a-z][a-z0-9_]*)=(.*)$/.exec(kv);
    if (!m) throw new Error(`--info wants NAME=VALUE, got "${kv}"`);
    if (!profile.deviceInfo?.some((d) => d.name === m[1]))
      throw new Error(`--info ${m[1]}: profile ${profile.name} has no such deviceInfo item`);
    info[m[1]!] = m[2]!;
  }
  const baud = Number(o.baud);
  const framing = parseFraming(o.framing);
  const server = new SimServer({ latencyMs: Number(o['latency-ms']) });
  for (const id of unitIds) {
    const sim = new BarrierSim({
      openMs: Number(o['open-ms']),
      closeMs: Number(o['close-ms']),
      seed: Number(o.seed) * 1000 + id,
      traffic,
      ratePerMin: Number(o['rate-per-min']),
      autoOpen: o['auto-open'],
      blind: o.blind === true,
      impactAngleDeg: Number(o['impact-angle']),
    });
    server.units.set(id, new UnitImage(id, profile, sim, info));
  }
  const bound: string[] = [];
  if (o.tcp) bound.push(`tcp=${await server.listenTcp(...hostPort(o.tcp, '--tcp'))}`);
  if (o['rtu-tcp'])
    bound.push(`rtu-tcp=${await server.listenRtuTcp(...hostPort(o['rtu-tcp'], '--rtu-tcp'), baud, framing)}`);
  if (o.serial) bound.push(`serial=${await server.openSerial(o.serial, baud, framing)}@${baud}`);
  const control = o.control ? await startControl(server, ...hostPort(o.control, '--control')) : undefined;
  if (control) bound.push(`control=${control.address}`);
  const ticker = setInterval(() => {
    for (const u of server.units.values()) u.sim.tick();
  }, 50);
  // Signal handlers before the "listening" line: whoever reads it may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    // `on`, not `once`: Ctrl-C relayed by npm/tsx arrives twice and must not kill us mid-close.
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  console.log(`barrier sim listening ${bound.join(' ')} units=${unitIds.join(',')} profile=${profile.name}`);
  await stopped;
  clearInterval(ticker);
  await Promise.all([server.close(), control?.close()]);
  console.log(`barrier sim stopped after serving ${server.served} requests`);
}
