import type { Client } from 'aedes';
import type { Logger } from 'pino';
import type { MqttIdentity } from './acl.ts';
import type { BrokerUser } from './config.ts';
import { samePassword, verifyPassword } from './passwords.ts';
import { isLoopback } from '../tls/exposure.ts';

export function peerAddress(client: Client): string | undefined {
  const conn = client.conn as { remoteAddress?: string };
  return client.req?.socket.remoteAddress ?? conn.remoteAddress;
}

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3 this module answers with. */
export const CONNACK = {
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

export class ConnectRefused extends Error {
  constructor(
    readonly returnCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Presented {
  username: string | undefined;
  password: Buffer | undefined;
  /** CN of a client certificate the TLS handshake verified against the broker's CA. */
  certName?: string;
}

/**
 * Checks a CONNECT's credentials against the configured users. Resolves the identity
 * and the user entry it came from (so a reload can tell whether it still holds), or
 * throws ConnectRefused carrying the CONNACK return code.
 */
export async function authenticateUser(
  users: readonly BrokerUser[],
  allowAnonymousLoopback: boolean,
  client: Client,
  given: Presented,
  log: Logger,
): Promise<{ identity: MqttIdentity; user?: BrokerUser }> {
  const peer = peerAddress(client);
  const { username, certName } = given;
  if (certName !== undefined) {
    const user = users.find((u) => u.username === certName);
    // A name in CONNECT must be the certificate's own: one client, one identity.
    if (user && (username === undefined || username === '' || username === certName)) {
      return { identity: identityOf(user), user };
    }
  }
  if (username === undefined || username === '') {
    if (allowAnonymousLoopback && peer !== undefined && isLoopback(peer)) {
      return { identity: { username: 'anonymous', role: 'reader', anonymous: true } };
    }
    log.warn({ clientId: client.id, peer }, 'mqtt anonymous connection refused');
    throw new ConnectRefused(CONNACK.NOT_AUTHORIZED, 'anonymous clients are not allowed');
  }
  const user = users.find((u) => u.username === username);
  const plain = given.password?.toString('utf8') ?? '';
  let ok = false;
  if (user?.passwordHash) ok = await verifyPassword(plain, user.passwordHash);
  else if (user?.password !== undefined) ok = samePassword(plain, user.password);
  if (!user || !ok) {
    log.warn({ clientId: client.id, username, peer }, 'mqtt login refused: bad username or password');
    throw new ConnectRefused(CONNACK.BAD_USERNAME_OR_PASSWORD, 'bad username or password');
  }
  return { identity: identityOf(user), user };
}

function identityOf(user: BrokerUser): MqttIdentity {
  return { username: user.username, role: user.role, ...(user.device ? { device: user.device } : {}) };
}

/** False once a reload changed or removed the user a client signed in as: it must go. */
export function stillHolds(was: BrokerUser, users: readonly BrokerUser[]): boolean {
  const now = users.find((u) => u.username === was.username);
  return (
    now !== undefined &&
    now.role === was.role &&
    now.device === was.device &&
    now.passwordHash === was.passwordHash &&
    now.password === was.password
  );
}
