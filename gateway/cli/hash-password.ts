import { hashPassword } from '../broker/passwords.ts';
import { parse } from './args.ts';

const USAGE = `usage: echo -n 'PASSWORD' | gatehouse hash-password

Prints the scrypt hash to put in broker.users[].passwordHash, so the YAML never
holds the password itself.`;

export async function hashPasswordCommand(argv: string[]): Promise<void> {
  parse(argv, {}, USAGE);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const plain = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!plain) {
    console.error(`no password on standard input\n\n${USAGE}`);
    process.exit(2);
  }
  console.log(await hashPassword(plain));
}
