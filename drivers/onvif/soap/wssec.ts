import { createHash, randomBytes } from 'node:crypto';
import { esc } from '../xml.ts';

/**
 * WS-Security UsernameToken with PasswordDigest, as ONVIF requires:
 * Base64(SHA-1(nonce + created + password)). `created` must be in the device's clock,
 * or the device rejects the token as stale; callers pass the device's time.
 */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

export interface UsernameTokenInput {
  username: string;
  password: string;
  /** Device time in ms since the epoch (local time plus the measured offset). */
  deviceTimeMs: number;
  nonce?: Buffer;
}

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const DIGEST_TYPE =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const B64 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** The <wsse:Security> header element for one request (a fresh nonce each time). */
export function usernameTokenHeader(input: UsernameTokenInput): string {
  const nonce = input.nonce ?? randomBytes(16);
  // Seconds precision: some cameras reject fractional seconds in Created.
  const created = new Date(input.deviceTimeMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const digest = passwordDigest(nonce, created, input.password);
  return (
    `<wsse:Security s:mustUnderstand="1" xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}">` +
    `<wsse:UsernameToken><wsse:Username>${esc(input.username)}</wsse:Username>` +
    `<wsse:Password Type="${DIGEST_TYPE}">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${B64}">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}
