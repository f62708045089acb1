import { XMLParser } from 'fast-xml-parser';
import { faults } from './envelope.ts';

/** Larger requests are refused before parsing: no ONVIF request a camera accepts comes near it. */
export const MAX_BODY_BYTES = 64 * 1024;

// Entities are never expanded and DOCTYPEs are refused outright (see parseSoap), so an
// entity-expansion or external-entity request cannot cost memory or reach a file.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: true,
});

export interface SoapRequest {
  /** Local name of the first element in the Body, e.g. "GetDeviceInformation". */
  op: string;
  /** That element, parsed (namespace prefixes stripped). */
  body: unknown;
  /** The env:Header element, parsed, or undefined. */
  header: unknown;
}

/** Parse a SOAP request or throw a SoapFault (env:Sender) naming what is wrong. */
export function parseSoap(xml: string): SoapRequest {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw faults.wellFormed('DTDs and entity declarations are not accepted');
  let doc: unknown;
  try {
    doc = parser.parse(xml, true);
  } catch (err) {
    throw faults.wellFormed(`Malformed XML: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  const env = (doc as Record<string, unknown>)['Envelope'];
  if (!env || typeof env !== 'object') throw faults.wellFormed('No SOAP Envelope');
  const e = env as Record<string, unknown>;
  const body = e['Body'];
  if (!body || typeof body !== 'object') throw faults.wellFormed('No SOAP Body');
  const op = Object.keys(body).find((k) => !k.startsWith('@_') && k !== '#text');
  if (!op) throw faults.wellFormed('Empty SOAP Body');
  return { op, body: (body as Record<string, unknown>)[op], header: e['Header'] };
}
