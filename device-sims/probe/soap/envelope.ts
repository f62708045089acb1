import { esc } from './xml.ts';

/** The namespace prefixes every response declares on its envelope, as real cameras do. */
export const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  xs: 'http://www.w3.org/2001/XMLSchema',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  tt: 'http://www.onvif.org/ver10/schema',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  timg: 'http://www.onvif.org/ver20/imaging/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tmd: 'http://www.onvif.org/ver10/deviceIO/wsdl',
  ter: 'http://www.onvif.org/ver10/error',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
  tns1: 'http://www.onvif.org/ver10/topics',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  'wsrf-r': 'http://docs.oasis-open.org/wsrf/r-2',
  'wsrf-bf': 'http://docs.oasis-open.org/wsrf/bf-2',
  /** Vendor extension namespace of this simulated camera (like hikxsd on Hikvision). */
  ghx: 'urn:gatehouse:probe-sim:ext',
} as const;

const NS_DECLS = Object.entries(NS)
  .map(([p, uri]) => ` xmlns:${p}="${uri}"`)
  .join('');

/** A SOAP 1.2 envelope around an already-serialised body (and optional header) fragment. */
export function envelope(body: string, header = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope${NS_DECLS}><env:Header>${header}</env:Header><env:Body>${body}</env:Body></env:Envelope>\n`;
}

/** A SOAP fault the router turns into an HTTP error response. */
export class SoapFault extends Error {
  constructor(
    /** env:Sender (client's fault, HTTP 400) or env:Receiver (device's, HTTP 500). */
    readonly code: 'Sender' | 'Receiver',
    /** Qualified ONVIF subcode, e.g. ter:NotAuthorized, ter:ActionNotSupported. */
    readonly subcode: string,
    readonly reason: string,
    /** Optional second-level subcode, e.g. ter:InvalidArgVal under ter:InvalidArgs. */
    readonly subsubcode?: string,
  ) {
    super(reason);
    this.name = 'SoapFault';
  }

  get httpStatus(): number {
    return this.code === 'Sender' ? 400 : 500;
  }
}

export const faults = {
  notAuthorized: (why = 'Sender not Authorized') => new SoapFault('Sender', 'ter:NotAuthorized', why),
  actionNotSupported: (op: string) =>
    new SoapFault('Receiver', 'ter:ActionNotSupported', `Optional Action Not Implemented: ${op}`),
  invalidArg: (why: string) => new SoapFault('Sender', 'ter:InvalidArgs', why, 'ter:InvalidArgVal'),
  wellFormed: (why: string) => new SoapFault('Sender', 'ter:WellFormed', why),
  noProfile: (token: string) =>
    new SoapFault('Sender', 'ter:InvalidArgVal', `No such profile: ${token}`, 'ter:NoProfile'),
  resourceUnknown: (what: string) => new SoapFault('Sender', 'wsrf-r:ResourceUnknownFault', what),
};

export function faultXml(f: SoapFault): string {
  const sub2 = f.subsubcode ? `<env:Subcode><env:Value>${esc(f.subsubcode)}</env:Value></env:Subcode>` : '';
  return envelope(
    `<env:Fault><env:Code><env:Value>env:${f.code}</env:Value><env:Subcode><env:Value>${esc(f.subcode)}</env:Value>${sub2}</env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">${esc(f.reason)}</env:Text></env:Reason></env:Fault>`,
  );
}
