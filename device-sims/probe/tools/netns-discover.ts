/**
 * Discovery self-check for a private network namespace (`unshare -n`): starts one probe
 * simulator on the default WS-Discovery port, runs node-onvif's own startProbe() (which
 * multicasts on the default interface), and prints the devices it found as one JSON
 * line `found <json>`. Run only inside a namespace: multicast must not reach a real LAN.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(path.join(ROOT, 'package.json'));
const onvif = require('node-onvif') as {
  startProbe(): Promise<{ urn: string; name: string; xaddrs: string[]; types: string[] }[]>;
};

const sim = spawn(
  path.join(ROOT, 'node_modules/.bin/tsx'),
  [
    path.join(ROOT, 'device-sims/main.ts'),
    'probe',
    '--http',
    '127.0.0.1:0',
    '--name',
    'Netns Gate',
    ...process.argv.slice(2),
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const ready = new Promise<string>((resolve, reject) => {
  let out = '';
  sim.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    const line = out.split('\n').find((l) => l.includes('listening'));
    if (line) resolve(line);
  });
  sim.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
});
try {
  console.log(await ready);
  const found = await onvif.startProbe();
  console.log(`found ${JSON.stringify(found)}`);
} finally {
  sim.kill('SIGTERM');
}
