import { createHash } from 'node:crypto';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { digestAuthorization, parseDigestChallenge } from '../../drivers/onvif/digest.ts';
import { meanLuma } from '../../drivers/onvif/luma.ts';
import { passwordDigest, usernameTokenHeader } from '../../drivers/onvif/soap/wssec.ts';
import { parseXml, pick, text } from '../../drivers/onvif/xml.ts';

describe('WS-Security PasswordDigest', () => {
  it('matches the ONVIF programmer guide vector', () => {
    const nonce = Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64');
    expect(passwordDigest(nonce, '2010-09-16T07:50:45Z', 'userpassword')).toBe(
      'tuOSpGlFlIXsozq4HFNeeGeFLEI=',
    );
  });

  it('signs with the device clock, not ours', () => {
    const deviceTimeMs = Date.UTC(2031, 0, 2, 3, 4, 5, 678);
    const nonce = Buffer.alloc(16, 7);
    const xml = usernameTokenHeader({ username: 'op<er>', password: 'p', deviceTimeMs, nonce });
    const doc = parseXml(`<h xmlns:s="x">${xml}</h>`);
    const tok = pick(doc, 'h', 'Security', 'UsernameToken');
    expect(text(pick(tok, 'Created'))).toBe('2031-01-02T03:04:05Z');
    expect(text(pick(tok, 'Username'))).toBe('op<er>');
    const expected = createHash('sha1')
      .update(Buffer.concat([nonce, Buffer.from('2031-01-02T03:04:05Z'), Buffer.from('p')]))
      .digest('base64');
    expect(text(pick(tok, 'Password'))).toBe(expected);
    expect(text(pick(tok, 'Nonce'))).toBe(nonce.toString('base64'));
  });
});

describe('HTTP digest', () => {
  it('computes the RFC 2617 example response', () => {
    const c = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    )!;
    expect(c).toMatchObject({ realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093' });
    const h = digestAuthorization(c, {
      method: 'GET',
      uri: '/dir/index.html',
      username: 'Mufasa',
      password: 'Circle Of Life',
      nc: 1,
      cnonce: '0a4f113b',
    });
    expect(h).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(h).toContain('qop=auth, nc=00000001, cnonce="0a4f113b"');
    expect(h).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it('answers SHA-256 challenges and ignores non-digest ones', () => {
    const c = parseDigestChallenge('Digest realm="r", nonce="n", algorithm=SHA-256')!;
    const h = digestAuthorization(c, { method: 'GET', uri: '/', username: 'u', password: 'p' });
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(h).toContain(`response="${sha(`${sha('u:r:p')}:n:${sha('GET:/')}`)}"`);
    expect(parseDigestChallenge('Basic realm="x"')).toBeNull();
  });
});

describe('mean luma', () => {
  const solid = (r: number, g: number, b: number, w = 64, h = 48) => {
    const data = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set([r, g, b, 255], i * 4);
    return jpeg.encode({ data, width: w, height: h }, 90).data;
  };

  it('measures dark, bright and grey frames', () => {
    expect(meanLuma(solid(0, 0, 0))).toBeLessThan(3);
    expect(meanLuma(solid(255, 255, 255))).toBeGreaterThan(250);
    expect(meanLuma(solid(128, 128, 128))).toBeGreaterThan(120);
    expect(meanLuma(solid(128, 128, 128))).toBeLessThan(136);
    // Rec. 601 weights: pure green is brighter than pure blue
    expect(meanLuma(solid(0, 255, 0))).toBeGreaterThan(meanLuma(solid(0, 0, 255)) * 4);
  });

  it('refuses data that is not a JPEG', () => {
    expect(() => meanLuma(Buffer.from('<html>login</html>'))).toThrow();
  });
});
