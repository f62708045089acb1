import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROBE_PASSWORD_ENV, villageYaml } from './config.ts';
import { launchVillage } from './launch.ts';

const USAGE = `usage: npm run sim -- village [--barriers N] [--probes N] [--config-out FILE] [--no-traffic]

Start a village of simulated devices (each its own process, on 127.0.0.1) and write a
village config for them, to run the gateway separately:

  npm run sim -- village --config-out /tmp/village.yaml
  ${PROBE_PASSWORD_ENV}=village-demo npm start -- --config /tmp/village.yaml

(npm run demo does both in one command.) Ctrl-C stops the simulators.`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      barriers: { type: 'string' },
      probes: { type: 'string' },
      'config-out': { type: 'string' },
      'no-traffic': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const village = await launchVillage({
    barriers: Number(values.barriers ?? 4),
    probes: Number(values.probes ?? 4),
    traffic: values['no-traffic'] ? 'off' : 'random',
    log: (l) => console.log(`  ${l}`),
  });
  const out = path.resolve(values['config-out'] ?? 'village.yaml');
  writeFileSync(out, villageYaml(village));
  console.log(
    `village listening: ${village.barriers.length} barriers, ${village.probes.length} probes; config ${out}`,
  );
  console.log(
    `probe password: ${village.probes[0]?.password ?? '-'} (export ${PROBE_PASSWORD_ENV} for the gateway)`,
  );
  const stop = () => void village.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
