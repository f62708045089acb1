import type { Client } from 'aedes';
import type { Logger } from 'pino';
import type { MqttIdentity } from './acl.ts';
import type { BrokerUser } from './config.ts';
import { samePassword, verifyPassword } from './passwords.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function peerAddress(client: Client): string | undefined {
  const conn = client.conn as { remoteAddress?: string };
  return client.req?.socket.remoteAddress ?? conn.remoteAddress;
}

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3 this module answers with. */
export const CONNACK = { IDENTIFIER_REJECTED: 2, BAD_USERNAME_OR_PASSWORD: 4, NOT_AUTHORIZED: 5 } as const;

export class ConnectRefused extends Error {
  constructor(
    readonly returnCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Checks a CONNECT's credentials against the configured users. Resolves the identity,
 * or throws ConnectRefused carrying the CONNACK return code.
 */
export async function authenticateUser(
  users: readonly BrokerUser[],
  allowAnonymousLoopback: boolean,
  client: Client,
  username: string | undefined,
  password: Buffer | undefined,
  log: Logger,
): Promise<MqttIdentity> {
  const peer = peerAddress(client);
  if (username === undefined || username === '') {
    if (allowAnonymousLoopback && peer !== undefined && LOOPBACK.has(peer)) {
      return { username: 'anonymous', role: 'reader', anonymous: true };
    }
    log.warn({ clientId: client.id, peer }, 'mqtt anonymous connection refused');
    throw new ConnectRefused(CONNACK.NOT_AUTHORIZED, 'anonymous clients are not allowed');
  }
  const user = users.find((u) => u.username === username);
  const given = password?.toString('utf8') ?? '';
  let ok = false;
  if (user?.passwordHash) ok = await verifyPassword(given, user.passwordHash);
  else if (user?.password !== undefined) ok = samePassword(given, user.password);
  if (!user || !ok) {
    log.warn({ clientId: client.id, username, peer }, 'mqtt login refused: bad username or password');
    throw new ConnectRefused(CONNACK.BAD_USERNAME_OR_PASSWORD, 'bad username or password');
  }
  return { username: user.username, role: user.role, ...(user.device ? { device: user.device } : {}) };
}
