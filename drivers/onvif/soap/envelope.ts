import { all, isNode, parseXml, pick, text, XmlError, type XmlNode } from '../xml.ts';

/** Namespaces the driver's request bodies use, declared once on every envelope. */
export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  timg: 'http://www.onvif.org/ver20/imaging/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wsa: 'http://www.w3.org/2005/08/addressing',
} as const;

export function buildEnvelope(body: string, header = ''): string {
  const xmlns = Object.entries(NS)
    .map(([p, u]) => `xmlns:${p}="${u}"`)
    .join(' ');
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${xmlns}><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

/** A SOAP 1.2 fault (or a 1.1 faultcode/faultstring, which some firmware still sends). */
export interface SoapFault {
  code: string;
  subcode?: string;
  reason: string;
}

export interface ParsedEnvelope {
  header: XmlNode;
  body: XmlNode;
  fault?: SoapFault;
  /**
   * Every subcode of the fault, outermost first. `fault.subcode` keeps only the deepest,
   * yet firmware puts the telling one anywhere: ter:ActionNotSupported above
   * ter:InvalidOperation (Hikvision), or below ter:InvalidDot11.
   */
  faultSubcodes?: string[];
}

const localName = (qname: string) => qname.replace(/^[^:]*:/, '');

function parseFault(f: unknown): { fault: SoapFault; subcodes: string[] } {
  // SOAP 1.1
  const code11 = text(pick(f, 'faultcode'));
  if (code11 !== undefined) {
    return {
      fault: { code: localName(code11), reason: text(pick(f, 'faultstring')) ?? '' },
      subcodes: [],
    };
  }
  const code = text(pick(f, 'Code', 'Value')) ?? 'unknown';
  // The most specific subcode is the deepest one (ter:InvalidArgVal under ter:InvalidArgs).
  let sub: unknown = pick(f, 'Code', 'Subcode');
  const subcodes: string[] = [];
  while ((isNode(sub) || Array.isArray(sub)) && subcodes.length < 8) {
    const v = text(pick(sub, 'Value'));
    if (v !== undefined) subcodes.push(localName(v.trim()));
    sub = pick(sub, 'Subcode');
  }
  const subcode = subcodes.at(-1);
  const reasons = all(pick(f, 'Reason'), 'Text')
    .map((t) => text(t) ?? '')
    .filter(Boolean);
  const fault: SoapFault = {
    code: localName(code),
    reason: reasons[0] ?? text(pick(f, 'Detail', 'Text')) ?? '',
  };
  if (subcode !== undefined) fault.subcode = subcode;
  return { fault, subcodes };
}

/**
 * Some firmware answers in MTOM/XOP (multipart, the envelope in the first part, binary
 * attachments after it: system logs, backups). Keep only the root part's XML.
 */
export function unwrapMtom(input: string | Buffer): string | Buffer {
  const head = (
    typeof input === 'string' ? input.slice(0, 200) : input.subarray(0, 200).toString('latin1')
  ).trimStart();
  if (!head.startsWith('--')) return input;
  const raw = typeof input === 'string' ? input : input.toString('latin1');
  const start = raw.indexOf('--');
  const boundary = raw.slice(start, raw.indexOf('\n', start)).trim();
  const end = raw.indexOf(`\n${boundary}`, start + boundary.length);
  const part = raw.slice(start + boundary.length, end < 0 ? undefined : end);
  let xmlAt = part.indexOf('<?xml');
  if (xmlAt < 0) {
    const blank = /\r?\n\r?\n/.exec(part);
    xmlAt = blank ? blank.index + blank[0].length : 0;
  }
  return Buffer.from(part.slice(xmlAt), 'latin1');
}

/** Parse a SOAP envelope safely; throws XmlError on garbage or a missing Envelope/Body. */
export function parseEnvelope(xml: string | Buffer, maxBytes?: number): ParsedEnvelope {
  const doc = parseXml(unwrapMtom(xml), maxBytes);
  const env = pick(doc, 'Envelope');
  const body = pick(env, 'Body');
  if (!isNode(env) || !(isNode(body) || body === '')) {
    throw new XmlError('malformed', 'not a SOAP envelope (no Envelope/Body element)');
  }
  const bodyNode: XmlNode = isNode(body) ? body : {};
  const header = pick(env, 'Header');
  const out: ParsedEnvelope = { header: isNode(header) ? header : {}, body: bodyNode };
  if (bodyNode['Fault'] !== undefined) {
    const { fault, subcodes } = parseFault(bodyNode['Fault']);
    out.fault = fault;
    out.faultSubcodes = subcodes;
  }
  return out;
}
