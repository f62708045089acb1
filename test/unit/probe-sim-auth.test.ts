import { describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { UsernameTokenVerifier } from '../../device-sims/probe/wssec.ts';
import { HttpAuthenticator, parseDigest } from '../../device-sims/probe/digest.ts';
import { digestAuthorization, usernameTokenHeader } from '../../device-sims/probe/tools/soap-client.ts';
import { parseSoap } from '../../device-sims/probe/soap/parse.ts';
import { SoapFault } from '../../device-sims/probe/soap/envelope.ts';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
});
const header = (xml: string) =>
  (parser.parse(`<s:Header xmlns:s="x">${xml}</s:Header>`) as { Header: unknown }).Header;

function faultOf(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    return e instanceof SoapFault ? `${e.subcode}: ${e.reason}` : String(e);
  }
  return 'no fault';
}

describe('WS-Security UsernameToken', () => {
  const v = () => new UsernameTokenVerifier({ windowS: 60 });
  const now = Date.parse('2026-01-01T12:00:00Z');

  it('accepts a correct PasswordDigest once, then rejects the replayed nonce', () => {
    const ver = v();
    const h = header(usernameTokenHeader({ user: 'a', password: 'p', createdMs: now }));
    expect(faultOf(() => ver.verify(h, 'a', 'p', now))).toBe('no fault');
    expect(faultOf(() => ver.verify(h, 'a', 'p', now))).toMatch(/ter:NotAuthorized: .*nonce already used/);
    ver.reset();
    expect(faultOf(() => ver.verify(h, 'a', 'p', now))).toBe('no fault');
  });

  it('rejects wrong user, wrong password, missing token and Created outside the window', () => {
    const h = header(usernameTokenHeader({ user: 'a', password: 'p', createdMs: now }));
    expect(faultOf(() => v().verify(h, 'b', 'p', now))).toMatch(/NotAuthorized/);
    expect(faultOf(() => v().verify(h, 'a', 'q', now))).toMatch(/NotAuthorized/);
    expect(faultOf(() => v().verify(undefined, 'a', 'p', now))).toMatch(/no WS-Security/);
    expect(faultOf(() => v().verify(h, 'a', 'p', now + 61_000))).toMatch(/time window/);
    expect(faultOf(() => v().verify(h, 'a', 'p', now - 59_000))).toBe('no fault');
  });
});

describe('HTTP digest', () => {
  const creds = { user: 'u', password: 'p' };

  it('round-trips a qop=auth challenge and rejects a wrong password or a reused nc', () => {
    const a = new HttpAuthenticator('Cam 1', 'digest');
    const ch = a.challenge();
    expect(parseDigest(ch)).toMatchObject({ realm: 'Cam 1', qop: 'auth', algorithm: 'MD5' });
    const good = digestAuthorization(ch, 'GET', '/snap?x=1', 'u', 'p', 1);
    expect(a.check('GET', good, creds).ok).toBe(true);
    expect(a.check('GET', good, creds).ok).toBe(false);
    expect(a.check('GET', digestAuthorization(ch, 'GET', '/snap', 'u', 'p', 2), creds).ok).toBe(true);
    expect(a.check('GET', digestAuthorization(ch, 'GET', '/snap', 'u', 'bad', 3), creds).ok).toBe(false);
    expect(a.check('GET', undefined, creds).ok).toBe(false);
  });

  it('rejects a nonce this server did not issue', () => {
    const a = new HttpAuthenticator('Cam 1', 'digest');
    const forged = digestAuthorization(
      'Digest realm="Cam 1", qop="auth", nonce="00000000000000deadbeef"',
      'GET',
      '/s',
      'u',
      'p',
    );
    const r = a.check('GET', forged, creds);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.stale).toBe(true);
  });

  it('supports RFC 2069 style (no qop) for RTSP, and basic when asked', () => {
    const rtsp = new HttpAuthenticator('Cam', 'digest', false);
    const ch = rtsp.challenge();
    expect(ch).not.toMatch(/qop/);
    expect(
      rtsp.check('DESCRIBE', digestAuthorization(ch, 'DESCRIBE', 'rtsp://h/x', 'u', 'p'), creds).ok,
    ).toBe(true);
    const basic = new HttpAuthenticator('Cam', 'basic');
    expect(basic.check('GET', `Basic ${Buffer.from('u:p').toString('base64')}`, creds).ok).toBe(true);
    expect(basic.check('GET', `Basic ${Buffer.from('u:x').toString('base64')}`, creds).ok).toBe(false);
  });
});

describe('SOAP request parsing', () => {
  it('finds the operation and refuses DTDs and broken XML', () => {
    const r = parseSoap(
      '<s:Envelope xmlns:s="e" xmlns:t="d"><s:Header/><s:Body><t:GetHostname/></s:Body></s:Envelope>',
    );
    expect(r.op).toBe('GetHostname');
    expect(
      faultOf(() => parseSoap('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')),
    ).toMatch(/ter:WellFormed: DTD/);
    expect(faultOf(() => parseSoap('<s:Envelope><s:Body><a></s:Body>'))).toMatch(/ter:WellFormed: Malformed/);
    expect(faultOf(() => parseSoap('<x/>'))).toMatch(/No SOAP Envelope/);
  });
});
