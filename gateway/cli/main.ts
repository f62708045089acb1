#!/usr/bin/env node
import { isDriverError } from '../../drivers/contract/errors.ts';
import { fromDriverError, isGatehouseError } from '../errors.ts';

const USAGE = `usage: gatehouse <command> [options]   (npm start wraps the first; npm run demo runs a simulated village)

commands:
  start           run the gateway for a village config (--config FILE)
  check           validate a village config and print what it describes (--config FILE)
  hash-password   read a password on stdin, print its scrypt hash for broker.users[].passwordHash
  hash-token      read an API token on stdin (or --generate one), print its hash for api.tokens[].tokenHash
  discover        find ONVIF cameras (--cidr / --hosts / --interface) for commissioning
  scan-modbus     sweep a bus of a running gateway for Modbus units and tell their profiles (--bus ID)
  add             add a device or a bus to a running gateway, live and into its config file
  remove          remove a device or a bus from a running gateway, live and from its config file
  status          the health of a running gateway as a table or JSON; exit 0 online, 1 degraded, 2 offline

"gatehouse <command> --help" tells more.`;

const COMMANDS: Record<string, () => Promise<{ [k: string]: (argv: string[]) => Promise<void> }>> = {
  start: () => import('./start.ts'),
  check: () => import('./check.ts'),
  'hash-password': () => import('./hash-password.ts'),
  'hash-token': () => import('./hash-token.ts'),
  discover: () => import('./discover.ts'),
  'scan-modbus': () => import('./scan-modbus.ts'),
  add: () => import('./add.ts'),
  remove: () => import('./remove.ts'),
  status: () => import('./status.ts'),
};

/** Commands whose module exports them under another name than the command's. */
const EXPORTS: Record<string, string> = {
  'hash-password': 'hashPasswordCommand',
  'hash-token': 'hashTokenCommand',
  'scan-modbus': 'scanModbus',
};

const [command, ...argv] = process.argv.slice(2);
if (!command || command === '--help' || command === '-h' || command === 'help') {
  console.log(USAGE);
  process.exit(command ? 0 : 2);
}
const load = COMMANDS[command];
if (!load) {
  console.error(`unknown command "${command}"\n\n${USAGE}`);
  process.exit(2);
}
try {
  const mod = await load();
  const fn = mod[EXPORTS[command] ?? command]!;
  await fn(argv);
} catch (thrown) {
  const err = isDriverError(thrown) ? fromDriverError(thrown) : thrown;
  if (isGatehouseError(err)) {
    console.error(`error ${err.code}: ${err.message}`);
    process.exit(2);
  }
  console.error(`error: ${(err as Error).stack ?? err}`);
  process.exit(1);
}
