import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../drivers/onvif/soap/envelope.ts';
import {
  interpretSoapResponse,
  parseOnvifDateTime,
  SoapFaultError,
} from '../../drivers/onvif/soap/client.ts';
import { parseNotifications } from '../../drivers/onvif/events.ts';
import { parseXml, pick, XmlError } from '../../drivers/onvif/xml.ts';
import { FIXTURES, FIXTURES_PRESENT, fixtureFiles } from '../helpers/onvif-replay.ts';

// The recordings live outside the project (shared fixtures); a checkout without them
// cannot run these cases, so they are skipped with that reason rather than faked.
describe.skipIf(!FIXTURES_PRESENT)(`parser vs every recorded camera answer (${FIXTURES})`, () => {
  const files = FIXTURES_PRESENT ? fixtureFiles() : [];

  it('finds the recordings of all three cameras', () => {
    expect(files.length).toBeGreaterThan(200);
    expect(new Set(files.map((f) => f.camera))).toEqual(new Set(['axis', 'hikvision', 'pelco']));
  });

  it.each(
    files
      .filter((f) => f.file.endsWith('.Response.xml'))
      .map((f) => [`${f.camera}/${f.service}/${f.file}`, f.full]),
  )('response %s parses to <Op>Response, no fault', (_name, full) => {
    const env = parseEnvelope(readFileSync(full));
    expect(env.fault).toBeUndefined();
    const op = /(\w+)\.Response\.xml$/.exec(full)![1]!;
    expect(Object.keys(env.body)).toContain(`${op}Response`);
  });

  it.each(
    files
      .filter((f) => f.file.endsWith('.Error.xml'))
      .map((f) => [`${f.camera}/${f.service}/${f.file}`, f.full]),
  )('fault %s parses into code/subcode/reason', (_name, full) => {
    const env = parseEnvelope(readFileSync(full));
    expect(env.fault).toBeDefined();
    // Codes are kept as sent: one firmware really answers "Reveiver".
    expect(env.fault!.code).toMatch(/^\w+$/);
    expect(typeof env.fault!.reason).toBe('string');
    // and the client turns it into a typed error carrying the fault
    const err = (() => {
      try {
        interpretSoapResponse(400, readFileSync(full), 'replay');
      } catch (e) {
        return e;
      }
    })();
    // A NotAuthorized fault is an auth failure; any other fault a typed SoapFaultError.
    if (/NotAuthorized/.test(env.fault!.subcode ?? '')) {
      expect(err).toMatchObject({ reason: 'auth-failed' });
    } else {
      expect(err).toBeInstanceOf(SoapFaultError);
      expect((err as SoapFaultError).fault).toEqual(env.fault);
      expect((err as SoapFaultError).reason).toBe('bad-response');
    }
  });

  it('reads the deepest subcode and the reason text of a real fault', () => {
    const env = parseEnvelope(readFileSync(`${FIXTURES}/axis/media/GetOSDs.Error.xml`));
    expect(env.fault).toEqual({ code: 'Receiver', subcode: 'Action', reason: 'Action failed' });
  });

  it('reads UTC time from GetSystemDateAndTime of each camera', () => {
    const env = parseEnvelope(readFileSync(`${FIXTURES}/axis/core/GetSystemDateAndTime.Response.xml`));
    const t = parseOnvifDateTime(
      pick(env.body, 'GetSystemDateAndTimeResponse', 'SystemDateAndTime', 'UTCDateTime'),
    );
    expect(new Date(t!).toISOString()).toBe('2018-02-27T23:09:59.000Z');
  });

  it('flattens pull-point notifications with vendor topics', () => {
    const env = parseEnvelope(readFileSync(`${FIXTURES}/pelco/events/PullMessages.Response.xml`));
    const msgs = parseNotifications(env.body);
    expect(msgs.length).toBeGreaterThan(2);
    expect(msgs[0]).toMatchObject({
      topic: 'tns1:Monitoring/ProcessorUsage',
      operation: 'Initialized',
      source: { Token: 'cpu' },
      data: { Value: '0.44' },
    });
    expect(msgs[0]!.time).toBe(Date.parse('2018-02-27T18:27:56.070891Z'));
  });
});

describe('safe XML parser', () => {
  const xxe = `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>&xxe;</x></s:Body></s:Envelope>`;
  const laughs =
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><lolz>&lol9;</lolz>';

  it('rejects an external entity (XXE) with a clear error', () => {
    expect(() => parseXml(xxe)).toThrow(XmlError);
    expect(() => parseXml(xxe)).toThrow(/DTD or entity declaration refused/);
    // the file is never read: no passwd content can appear anywhere
    try {
      parseEnvelope(xxe);
    } catch (e) {
      expect((e as XmlError).kind).toBe('dtd-forbidden');
      expect(String(e)).not.toMatch(/root:/);
    }
  });

  it('rejects billion laughs, also with a lowercase or spaced doctype', () => {
    expect(() => parseXml(laughs)).toThrow(/DTD or entity/);
    expect(() => parseXml(laughs.replace('<!DOCTYPE', '<! doctype'))).toThrow(XmlError);
    expect(() => parseXml('<a><!ENTITY x "y"></a>')).toThrow(XmlError);
  });

  it('turns DTD payloads from a device into bad-response, not a crash', () => {
    expect(() => interpretSoapResponse(200, Buffer.from(xxe), 'cam')).toThrow(/unreadable answer.*DTD/);
  });

  it('bounds size', () => {
    const big = `<a>${'x'.repeat(2000)}</a>`;
    expect(() => parseXml(big, 1000)).toThrow(/exceeds the 1000-byte limit/);
    expect(parseXml(big, 5000)).toEqual({ a: 'x'.repeat(2000) });
  });

  it('rejects garbage and non-SOAP documents', () => {
    expect(() => parseXml('<html><b>oops</b')).toThrow(/malformed XML/);
    expect(() => parseXml('not xml at all')).toThrow(XmlError);
    expect(() => parseEnvelope('<a>1</a>')).toThrow(/not a SOAP envelope/);
  });

  it('decodes the predefined entities only', () => {
    expect(parseXml('<a>&lt;b&gt; &amp; &quot;</a>')).toEqual({ a: '<b> & "' });
  });

  it('parses SOAP 1.1 faults too', () => {
    const f = parseEnvelope(
      '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><e:Fault><faultcode>e:Client</faultcode><faultstring>nope</faultstring></e:Fault></e:Body></e:Envelope>',
    ).fault;
    expect(f).toEqual({ code: 'Client', reason: 'nope' });
  });

  it('maps NotAuthorized faults and HTTP 401 to auth-failed', () => {
    const fault = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">Sender not Authorized</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`;
    expect(() => interpretSoapResponse(400, Buffer.from(fault), 'cam')).toThrow(
      expect.objectContaining({ reason: 'auth-failed' }),
    );
    expect(() => interpretSoapResponse(401, Buffer.alloc(0), 'cam')).toThrow(
      expect.objectContaining({ reason: 'auth-failed' }),
    );
    expect(() => interpretSoapResponse(500, Buffer.from('Internal Server Error'), 'cam')).toThrow(
      expect.objectContaining({ reason: 'bad-response', status: 'degraded' }),
    );
  });
});
