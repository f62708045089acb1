import { hashToken, newToken } from '../credentials/tokens.ts';
import { parse } from './args.ts';

const USAGE = `usage: gatehouse hash-token --generate
       echo -n 'TOKEN' | gatehouse hash-token

Prints the hash to put in api.tokens[].tokenHash, so the config never holds the token
itself. --generate makes a new random token (32 bytes) and prints it once, with its
hash; give the token to its holder and keep only the hash.

A token is compared by its SHA-256, not scrypt: it is random, so nothing can be
guessed faster for it, and every request can be checked without costing CPU.`;

/** Tokens shorter than this are refused: a short one could be guessed, hashed or not. */
const MIN_LENGTH = 16;

export async function hashTokenCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { generate: { type: 'boolean' } }, USAGE);
  if (values.generate) {
    const token = newToken();
    console.log(`token:     ${token}`);
    console.log(`tokenHash: ${hashToken(token)}`);
    return;
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const token = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (token.length < MIN_LENGTH) {
    console.error(`a token of at least ${MIN_LENGTH} characters is needed on standard input\n\n${USAGE}`);
    process.exit(2);
  }
  console.log(hashToken(token));
}
