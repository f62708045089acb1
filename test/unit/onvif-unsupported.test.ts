import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { outcomeOf, verdict } from '../../drivers/onvif/checks.ts';
import { interpretSoapResponse, isNotSupported } from '../../drivers/onvif/soap/client.ts';
import { FIXTURES, FIXTURES_PRESENT, fixtureFiles } from '../helpers/onvif-replay.ts';

const faultOf = (xml: string | Buffer, status = 500): unknown => {
  try {
    interpretSoapResponse(status, Buffer.from(xml), 'cam GetX');
  } catch (e) {
    return e;
  }
  return undefined;
};

/** The recorded faults that say "this camera has no such operation", read by hand from the files. */
const LACKING = new Set([
  'axis/media/GetAudioEncoderConfigurations',
  'axis/media/GetAudioSourceConfigurations',
  'axis/media/GetAudioSources',
  'axis/media/GetVideoAnalyticsConfigurations',
  'hikvision/analytics/GetAnalyticsModuleOptions',
  'hikvision/core/GetCACertificates',
  'hikvision/core/GetCertificates',
  'hikvision/core/GetCertificatesStatus',
  'hikvision/core/GetClientCertificateMode',
  'hikvision/core/GetDot11Capabilities',
  'hikvision/core/GetDot11Status',
  'hikvision/core/GetDot1XConfigurations',
  'hikvision/core/GetEndpointReference',
  'hikvision/core/GetGeoLocation',
  'hikvision/core/ScanAvailableDot11Networks',
  'hikvision/ptz/GetCompatibleConfigurations',
  'pelco/core/GetAccessPolicy',
  'pelco/core/GetDPAddresses',
  'pelco/core/GetDot11Capabilities',
  'pelco/core/GetDot11Status',
  'pelco/core/GetDynamicDNS',
  'pelco/core/GetEndpointReference',
  'pelco/core/GetGeoLocation', // gSOAP: "Method 'tds:GetGeoLocation' not implemented"
  'pelco/core/GetRemoteDiscoveryMode',
  'pelco/core/ScanAvailableDot11Networks',
  'pelco/core/SetDynamicDNS',
  'pelco/core/SetHostnameFromDHCP',
  'pelco/media/GetAudioDecoderConfigurations',
  'pelco/media/GetAudioOutputConfigurations',
  'pelco/ptz/GetCompatibleConfigurations',
]);

describe.skipIf(!FIXTURES_PRESENT)(`"not supported" faults of real cameras (${FIXTURES})`, () => {
  const errors = FIXTURES_PRESENT ? fixtureFiles().filter((f) => f.file.endsWith('.Error.xml')) : [];
  it.each(errors.map((f) => [`${f.camera}/${f.service}/${f.file.replace('.Error.xml', '')}`, f.full]))(
    '%s',
    (name, full) => {
      const err = faultOf(readFileSync(full));
      // Axis' "ter:Action / Action failed", NotAuthorized, InvalidArgs… are failures, not absences.
      expect(isNotSupported(err)).toBe(LACKING.has(name));
      expect(outcomeOf(err).status).toBe(LACKING.has(name) ? 'unsupported' : 'failed');
    },
  );
});

describe('not-supported classification and the health verdict', () => {
  const fault = (code: string, subs: string[], reason: string) =>
    `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><e:Body><e:Fault><e:Code><e:Value>e:${code}</e:Value>${subs.map((s) => `<e:Subcode><e:Value>ter:${s}</e:Value>`).join('')}${subs.map(() => '</e:Subcode>').join('')}</e:Code><e:Reason><e:Text xml:lang="en">${reason}</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>`;

  it('knows ter:ActionNotSupported at any depth, ter:NotImplemented and the words for it', () => {
    expect(isNotSupported(faultOf(fault('Receiver', ['ActionNotSupported'], '')))).toBe(true);
    expect(isNotSupported(faultOf(fault('Receiver', ['ActionNotSupported', 'InvalidOperation'], 'x')))).toBe(
      true,
    );
    expect(isNotSupported(faultOf(fault('Receiver', ['NotImplemented'], ''), 400))).toBe(true);
    expect(isNotSupported(faultOf(fault('Sender', [], 'Optional Action Not Implemented')))).toBe(true);
    const soap11 =
      '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>Method not implemented</faultstring></s:Fault></s:Body></s:Envelope>';
    expect(isNotSupported(faultOf(soap11))).toBe(true);
    expect(isNotSupported(faultOf(fault('Receiver', ['Action'], 'Action failed')))).toBe(false);
    expect(isNotSupported(faultOf('<html>500</html>'))).toBe(false);
  });

  it('names the most serious failure, offline only when the device service is unreachable', () => {
    const v = verdict({
      clock: { status: 'failed', reason: 'clock-skew', detail: 'off by 9 s' },
      snapshot: { status: 'failed', reason: 'bad-response', detail: 'HTTP 404' },
      stream: { status: 'failed', reason: 'stream-unreachable', detail: 'refused', offline: true },
      imaging: { status: 'unsupported' },
      device: { status: 'ok' },
    });
    expect(v).toEqual({
      status: 'degraded',
      reason: 'stream-unreachable',
      detail: 'stream: refused; clock: off by 9 s; snapshot: HTTP 404; not supported by the camera: imaging',
    });
    expect(verdict({ device: { status: 'failed', reason: 'auth-failed', offline: true } })).toMatchObject({
      status: 'offline',
      reason: 'auth-failed',
    });
    expect(verdict({ imaging: { status: 'unsupported' }, clock: { status: 'ok' } })).toEqual({
      status: 'online',
      detail: 'not supported by the camera: imaging',
    });
  });
});
