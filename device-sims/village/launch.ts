import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startTs, type Proc } from '../harness/child.ts';
import { ptyPair } from '../harness/socat.ts';
import { hasCommand } from '../harness/which.ts';

export interface SimBarrier {
  id: string;
  lane: string;
  transport: 'tcp' | 'rtu';
  profile: string;
  unit: number;
  /** host:port for tcp, the gateway's end of the pty pair for rtu. */
  address: string;
  baud?: number;
  control: string;
}

export interface SimProbe {
  id: string;
  lane: string;
  url: string;
  control: string;
  username: string;
  password: string;
}

export interface Village {
  barriers: SimBarrier[];
  probes: SimProbe[];
  stop(): Promise<void>;
}

export interface VillageOptions {
  barriers?: number;
  probes?: number;
  /** Put the last barriers on an RS-485 line (socat pty pair) when socat exists. */
  rtu?: boolean;
  probeUser?: string;
  probePassword?: string;
  /** Simulated traffic on the barriers' lanes. */
  traffic?: 'off' | 'random';
  log?: (line: string) => void;
}

const PROFILES = ['northgate-hr', 'pulsar-relay'];

/**
 * A village of simulated devices, each a real network peer in its own process:
 * barrier controllers on Modbus TCP, two more units sharing one RTU line over a
 * socat pseudo-terminal pair, and ONVIF probes, one per lane.
 */
export async function launchVillage(opts: VillageOptions = {}): Promise<Village> {
  const nBarriers = opts.barriers ?? 4;
  const nProbes = opts.probes ?? 4;
  const log = opts.log ?? (() => undefined);
  const procs: Proc[] = [];
  const barriers: SimBarrier[] = [];
  const probes: SimProbe[] = [];
  const stop = async () => {
    await Promise.allSettled([...procs].reverse().map((p) => p.stop()));
  };
  // Start every simulator at once (each is its own process), then wait for all.
  const started = async (args: string[]) => {
    const p = startTs('device-sims/main.ts', args);
    procs.push(p);
    await p.waitFor(/listening/, 60_000);
  };
  try {
    const useRtu = (opts.rtu ?? true) && hasCommand('socat') && nBarriers >= 2;
    const nRtu = useRtu ? Math.min(2, nBarriers - 1) : 0;
    const traffic = opts.traffic ?? 'random';
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < nBarriers - nRtu; i++) {
      const [port, control] = [await freePort(), await freePort()];
      const profile = PROFILES[i % PROFILES.length]!;
      const b: SimBarrier = {
        id: `barrier-${i + 1}`,
        lane: `lane-${i + 1}`,
        transport: 'tcp',
        profile,
        unit: 1,
        address: `127.0.0.1:${port}`,
        control: `http://127.0.0.1:${control}`,
      };
      barriers.push(b);
      jobs.push(
        started([
          'barrier',
          '--tcp',
          b.address,
          '--unit',
          '1',
          '--profile',
          profile,
          '--control',
          `127.0.0.1:${control}`,
          '--traffic',
          traffic,
          '--seed',
          String(i + 1),
        ]).then(() => log(`${b.id}: Modbus TCP ${b.address} (${profile})`)),
      );
    }
    if (nRtu > 0) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-rs485-'));
      const pair = await ptyPair(dir);
      procs.push(pair.proc);
      const control = await freePort();
      const units = Array.from({ length: nRtu }, (_, k) => k + 1);
      for (const unit of units) {
        const n = barriers.length + 1;
        barriers.push({
          id: `barrier-${n}`,
          lane: `lane-${n}`,
          transport: 'rtu',
          profile: PROFILES[0]!,
          unit,
          address: pair.a,
          baud: 9600,
          control: `http://127.0.0.1:${control}`,
        });
      }
      jobs.push(
        started([
          'barrier',
          '--serial',
          pair.b,
          '--baud',
          '9600',
          '--units',
          units.join(','),
          '--profile',
          PROFILES[0]!,
          '--control',
          `127.0.0.1:${control}`,
          '--traffic',
          traffic,
          '--seed',
          '99',
        ]).then(() =>
          log(`units ${units.join(', ')}: Modbus RTU on ${pair.a} at 9600 baud (one RS-485 line)`),
        ),
      );
    }
    const username = opts.probeUser ?? 'admin';
    const password = opts.probePassword ?? 'village-demo';
    for (let i = 0; i < nProbes; i++) {
      const [http, rtsp, control] = [await freePort(), await freePort(), await freePort()];
      const p: SimProbe = {
        id: `probe-${i + 1}`,
        lane: `lane-${i + 1}`,
        url: `http://127.0.0.1:${http}/onvif/device_service`,
        control: `http://127.0.0.1:${control}`,
        username,
        password,
      };
      probes.push(p);
      jobs.push(
        started([
          'probe',
          '--http',
          `127.0.0.1:${http}`,
          '--rtsp',
          `127.0.0.1:${rtsp}`,
          '--control',
          `127.0.0.1:${control}`,
          '--user',
          username,
          '--password',
          password,
          '--no-discovery',
          '--serial',
          `SIM-${i + 1}`,
        ]).then(() => log(`${p.id}: ONVIF ${p.url}`)),
      );
    }
    await Promise.all(jobs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { barriers, probes, stop };
}
