/**
 * Simulator dispatcher: `npm run sim -- <barrier|probe|village> [options]`.
 * Each simulator's cli.ts exports `run(argv)`, which resolves once it is listening.
 */
type Sim = { run: (argv: string[]) => Promise<void> };

const SIMS: Record<string, { about: string; load: () => Promise<Sim> }> = {
  barrier: {
    about: 'barrier controller on Modbus TCP / RTU / RTU over TCP',
    load: () => import('./barrier/cli.ts'),
  },
  probe: {
    about: 'ONVIF night-vision camera (SOAP, WS-Discovery, RTSP, snapshots)',
    load: () => import('./probe/cli.ts'),
  },
  village: {
    about: 'a whole village of simulators, with a config for `npm start`',
    load: () => import('./village/cli.ts'),
  },
  demo: {
    about: 'the village of simulators, InfluxDB and the gateway (npm run demo)',
    load: () => import('./village/demo.ts'),
  },
};

const USAGE = `usage: npm run sim -- <simulator> [options]     ("npm run sim -- <simulator> --help" for its options)

simulators:
${Object.entries(SIMS)
  .map(([n, s]) => `  ${n.padEnd(9)} ${s.about}`)
  .join('\n')}

examples:
  npm run sim -- barrier --tcp 127.0.0.1:5020 --unit 1 --profile northgate-hr --traffic random
  npm run sim -- barrier --serial /dev/pts/7 --baud 9600 --units 1,2,3
  npm run sim -- probe --http 127.0.0.1:8000 --user admin --password secret`;

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  console.log(USAGE);
  process.exit(name ? 0 : 2);
}
const sim = SIMS[name];
if (!sim) {
  console.error(`unknown simulator "${name}"\n\n${USAGE}`);
  process.exit(2);
}
try {
  await (await sim.load()).run(rest);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
