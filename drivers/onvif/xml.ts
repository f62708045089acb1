import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * The one XML parser the ONVIF driver uses on anything a device sends. Cameras are
 * untrusted network peers: a DTD can carry external entities (XXE, file reads, SSRF)
 * or nested entity bombs (billion laughs). SOAP 1.2 forbids DTDs in messages, so any
 * DOCTYPE or ENTITY declaration is refused before parsing, and size is bounded.
 */
export type XmlNode = { [name: string]: unknown };

export type XmlErrorKind = 'too-large' | 'dtd-forbidden' | 'malformed';

export class XmlError extends Error {
  constructor(
    readonly kind: XmlErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'XmlError';
  }
}

export const DEFAULT_MAX_XML_BYTES = 2 * 1024 * 1024;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  textNodeName: '#text',
  // Only the five predefined entities remain possible: DTDs are rejected below.
  processEntities: true,
  htmlEntities: false,
});

const DTD_RE = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)/i;

/** Parse untrusted XML into plain objects with namespace prefixes removed. */
export function parseXml(input: string | Buffer, maxBytes = DEFAULT_MAX_XML_BYTES): XmlNode {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes)
    throw new XmlError('too-large', `XML of ${size} bytes exceeds the ${maxBytes}-byte limit`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (DTD_RE.test(text)) {
    throw new XmlError(
      'dtd-forbidden',
      'XML with a DTD or entity declaration refused (possible XXE or entity bomb)',
    );
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new XmlError('malformed', `malformed XML: ${valid.err.msg} (line ${valid.err.line})`);
  }
  let doc: unknown;
  try {
    doc = parser.parse(text) as unknown;
  } catch (err) {
    // The validator lets a few shapes through that the parser then chokes on (a
    // processing instruction inside an attribute, found by the fuzz properties).
    throw new XmlError('malformed', `malformed XML: ${(err as Error).message}`);
  }
  if (!isNode(doc)) throw new XmlError('malformed', 'XML has no root element');
  return doc;
}

export function isNode(v: unknown): v is XmlNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Follow element names; the first element is taken where a name repeats. */
export function pick(node: unknown, ...names: string[]): unknown {
  let cur: unknown = node;
  for (const name of names) {
    if (Array.isArray(cur)) cur = cur[0];
    if (!isNode(cur)) return undefined;
    cur = cur[name];
  }
  return cur;
}

/** Every element under a name (a single element is returned as a one-item list). */
export function all(node: unknown, name: string): unknown[] {
  const v = pick(node, name);
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** An element's text, whether it is a bare value or has attributes. */
export function text(v: unknown): string | undefined {
  if (Array.isArray(v)) return text(v[0]);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isNode(v)) {
    const t = v['#text'];
    if (t !== undefined) return String(t);
    if (Object.keys(v).every((k) => k.startsWith('@'))) return '';
  }
  return undefined;
}

export function attr(node: unknown, name: string): string | undefined {
  const n = Array.isArray(node) ? node[0] : node;
  if (!isNode(n)) return undefined;
  const v = n[`@${name}`];
  return v === undefined ? undefined : String(v);
}

/** Escape a value for an element body or attribute. */
export function esc(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}
