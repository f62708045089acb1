import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type Role = 'admin' | 'platform' | 'reader';

/** `sha256$<64 hex>`: what `gatehouse hash-token` prints and `api.tokens[].tokenHash` holds. */
export const TOKEN_HASH_PATTERN = '^sha256\\$[0-9a-f]{64}$';

/** A configured token as the gateway keeps it: only its digest, never the token itself. */
export interface TokenEntry {
  name: string;
  role: Role;
  /** When it stops being accepted (ms since the epoch); absent: never. */
  expiresAt?: number;
}

interface Held extends TokenEntry {
  digest: Buffer;
}

/**
 * SHA-256, unsalted and fast, on purpose: a token is 32 random bytes (`hash-token
 * --generate`), so there is nothing to guess that salt or stretching would slow down,
 * while scrypt on every request would hand anyone a CPU lever on the gateway. Human
 * passwords (MQTT users) get scrypt instead.
 */
export function hashToken(token: string): string {
  return `sha256$${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export type Lookup = { ok: true; token: TokenEntry } | { ok: false; expired?: TokenEntry };

/**
 * The API tokens in force. Replaced whole on a reload, so a revoked token fails from
 * the next request on. A presented token is hashed and compared with every entry in
 * constant time, so neither the comparison nor the entry's position tells how close
 * a guess was.
 */
export class TokenStore {
  private held: Held[] = [];

  constructor(entries: readonly (TokenEntry & { tokenHash: string })[] = []) {
    this.replace(entries);
  }

  replace(entries: readonly (TokenEntry & { tokenHash: string })[]): void {
    this.held = entries.map(({ tokenHash, ...e }) => ({
      ...e,
      digest: Buffer.from(tokenHash.slice('sha256$'.length), 'hex'),
    }));
  }

  get size(): number {
    return this.held.length;
  }

  find(presented: string, now = Date.now()): Lookup {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let match: Held | undefined;
    for (const h of this.held) if (timingSafeEqual(h.digest, digest) && !match) match = h;
    if (!match) return { ok: false };
    const { digest: _, ...token } = match;
    if (token.expiresAt !== undefined && now >= token.expiresAt) return { ok: false, expired: token };
    return { ok: true, token };
  }
}
