/**
 * The broker on its own, as a process: used by the restart tests and the benchmark,
 * and to make a password hash for a config:
 *   tsx gateway/broker/main.ts hash-password < password.txt
 *   tsx gateway/broker/main.ts serve --village V [--port N] [--ws-port N] [--data-dir DIR]
 *       [--users FILE.json] [--allow-anonymous-loopback]
 * Prints `mqtt broker ready port=N` once listening; SIGTERM/SIGINT shut it down cleanly.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { Type } from '@sinclair/typebox';
import { createLogger } from '../logger.ts';
import { GatehouseBroker } from './broker.ts';
import { BrokerUserSchema } from './config.ts';
import { hashPassword } from './passwords.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      village: { type: 'string', default: 'demo' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '1883' },
      'ws-port': { type: 'string' },
      'data-dir': { type: 'string' },
      users: { type: 'string' },
      'allow-anonymous-loopback': { type: 'boolean', default: false },
    },
  });
  const users = values.users ? (JSON.parse(readFileSync(values.users, 'utf8')) as unknown) : [];
  const UsersSchema = Type.Array(BrokerUserSchema);
  if (!Value.Check(UsersSchema, users)) {
    const first = [...Value.Errors(UsersSchema, users)][0];
    throw new Error(`${values.users}: ${first?.path ?? ''} ${first?.message ?? 'invalid'}`);
  }
  const log = createLogger({ name: 'broker' });
  const broker = await GatehouseBroker.create({
    village: values.village,
    config: {
      host: values.host,
      port: Number(values.port),
      ...(values['ws-port'] ? { wsPort: Number(values['ws-port']) } : {}),
      allowAnonymousLoopback: values['allow-anonymous-loopback'],
      users,
    },
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    log,
  });
  const { port, wsPort } = await broker.listen();
  // Handlers before the "ready" line: whoever reads it may stop us at once.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void broker.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`mqtt broker ready port=${port}${wsPort ? ` wsPort=${wsPort}` : ''}`);
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'hash-password') {
  console.log(await hashPassword(await readStdin()));
} else if (cmd === 'serve') {
  await serve(rest);
} else {
  console.error(
    'usage: main.ts hash-password | serve [--village V] [--port N] [--data-dir DIR] [--users FILE]',
  );
  process.exit(2);
}
