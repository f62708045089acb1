import { createHash, timingSafeEqual } from 'node:crypto';
import { at, attr, text } from './soap/xml.ts';
import { faults } from './soap/envelope.ts';

const PASSWORD_TEXT = '#PasswordText';
/** Seen nonces are kept while their Created time is inside the window; never more than this many. */
const MAX_NONCES = 50_000;

export interface WsSecurityOptions {
  /** How far `Created` may be from the camera's own clock, either way. */
  windowS: number;
}

/**
 * WS-Security UsernameToken verification (ONVIF Core §5.12): PasswordDigest =
 * Base64(SHA1(nonce + created + password)), a nonce used once inside the window, and
 * `Created` checked against the camera's (possibly skewed) clock. PasswordText is
 * accepted too, as many cameras do.
 */
export class UsernameTokenVerifier {
  private readonly seen = new Map<string, number>();

  constructor(private readonly opts: WsSecurityOptions) {}

  /** Throws ter:NotAuthorized unless the header carries a valid token for user/password. */
  verify(header: unknown, user: string, password: string, cameraNowMs: number): void {
    const token = at(header, 'Security', 'UsernameToken');
    if (!token) throw faults.notAuthorized('Sender not Authorized: no WS-Security UsernameToken');
    const username = text(at(token, 'Username'));
    const pwNode = at(token, 'Password');
    const pw = text(pwNode) ?? '';
    const type = attr(pwNode, 'Type') ?? '';
    const nonceB64 = text(at(token, 'Nonce'));
    const created = text(at(token, 'Created'));

    if (type.endsWith(PASSWORD_TEXT)) {
      if (username !== user || !sameText(pw, password)) throw faults.notAuthorized();
      return;
    }
    if (!nonceB64 || !created)
      throw faults.notAuthorized('Sender not Authorized: digest needs Nonce and Created');
    const createdMs = Date.parse(created);
    if (Number.isNaN(createdMs)) throw faults.notAuthorized('Sender not Authorized: unreadable Created');
    const windowMs = this.opts.windowS * 1000;
    if (Math.abs(createdMs - cameraNowMs) > windowMs) {
      throw faults.notAuthorized(
        'Sender not Authorized: Created is outside the time window of the device clock',
      );
    }
    const nonce = Buffer.from(nonceB64, 'base64');
    const expected = createHash('sha1')
      .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
      .digest('base64');
    if (username !== user || !sameText(pw, expected)) throw faults.notAuthorized();
    this.prune(cameraNowMs);
    if (this.seen.has(nonceB64)) throw faults.notAuthorized('Sender not Authorized: nonce already used');
    this.seen.set(nonceB64, createdMs + windowMs);
    if (this.seen.size > MAX_NONCES) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  /** A reboot forgets the replay cache, like a camera's RAM. */
  reset(): void {
    this.seen.clear();
  }

  private prune(nowMs: number): void {
    if (this.seen.size < 1000) return;
    for (const [n, until] of this.seen) if (until < nowMs) this.seen.delete(n);
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
