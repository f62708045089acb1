import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceError } from '../../drivers/contract/errors.ts';
import { parseXml, XmlError } from '../../drivers/onvif/xml.ts';
import { interpretSoapResponse } from '../../drivers/onvif/soap/client.ts';
import { TIMEOUT_MS, fcOptions, isCrash } from './runs.ts';

// What a hostile camera can send the ONVIF driver: any bytes, XML-ish noise, real SOAP
// answers with damage, and DTD attacks (external entities, entity bombs) in every
// spelling. parseXml answers or throws XmlError; a DTD is refused, never expanded.

const SECRET = 'gatehouse-xxe-canary';
const name = fc.stringMatching(/^[A-Za-z_][\w.-]{0,8}$/);
const tag = fc
  .tuple(fc.option(fc.constantFrom('s', 'tds', 'tt', 'env'), { nil: undefined }), name)
  .map(([p, n]) => (p ? `${p}:${n}` : n));

/** Well-formed-ish XML trees, with text that may hold entity references. */
const xmlTree: fc.Arbitrary<string> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.stringMatching(/^[^<&]{0,20}$/),
    fc.constantFrom('&amp;', '&lt;', '&#x41;', '&#65;', '&undefined;', '&lol9;', '&xxe;'),
    fc
      .tuple(
        tag,
        fc.array(fc.tuple(name, fc.string({ maxLength: 10 })), { maxLength: 3 }),
        fc.array(tie('node'), { maxLength: 4 }),
      )
      .map(
        ([t, attrs, kids]) =>
          `<${t}${attrs.map(([k, v]) => ` ${k}="${v.replace(/[<&"]/g, '')}"`).join('')}>${kids.join('')}</${t}>`,
      ),
  ),
})).node;

/** DTD attacks, in the spellings parsers have been fooled by. */
const dtdAttack = fc
  .tuple(
    fc.constantFrom('DOCTYPE', 'doctype', 'DocType', 'ENTITY', 'ELEMENT', 'ATTLIST'),
    fc.constantFrom('', ' ', '\n', '\t', '  '),
    fc.constantFrom(
      `foo [<!ENTITY xxe SYSTEM "file:///etc/hostname">]`,
      `foo [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/${SECRET}">]`,
      `lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]`,
      `foo SYSTEM "http://127.0.0.1:1/evil.dtd"`,
      `foo [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]`,
      `x "${SECRET}"`,
    ),
    xmlTree,
    fc.constantFrom('', '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-8"?>\n'),
  )
  .map(([kw, sp, rest, body, decl]) => `${decl}<!${sp}${kw} ${rest}><r>&xxe;&lol2;${body}</r>`);

const soapAnswer = fc
  .tuple(xmlTree, fc.boolean())
  .map(
    ([inner, fault]) =>
      `<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>${
        fault
          ? `<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>${inner}</env:Value></env:Subcode></env:Code><env:Reason><env:Text>${inner}</env:Text></env:Reason></env:Fault>`
          : inner
      }</env:Body></env:Envelope>`,
  );

function parseOrRefuse(input: string | Buffer): unknown {
  try {
    return parseXml(input);
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    return err;
  }
}

describe('ONVIF XML parser', { timeout: TIMEOUT_MS }, () => {
  it('any bytes, XML noise or damaged SOAP: a tree or an XmlError, nothing else', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
      fc.string({ maxLength: 300 }),
      xmlTree,
      soapAnswer,
      soapAnswer.chain((s) =>
        fc.tuple(fc.nat(s.length), fc.nat(s.length)).map(([a, b]) => s.slice(0, a) + s.slice(b)),
      ),
    );
    fc.assert(
      fc.property(input, (x) => void parseOrRefuse(x)),
      fcOptions(),
    );
  });

  it('a DTD in any spelling is refused (dtd-forbidden), never expanded', () => {
    fc.assert(
      fc.property(dtdAttack, (x) => {
        const r = parseOrRefuse(x);
        expect(r).toBeInstanceOf(XmlError);
        expect((r as XmlError).kind).toBe('dtd-forbidden');
      }),
      fcOptions(),
    );
  });

  it('entity references without a DTD stay literal or are refused: never file contents or a bomb', () => {
    fc.assert(
      fc.property(xmlTree, (x) => {
        const r = parseOrRefuse(`<r>${x}</r>`);
        const out = JSON.stringify(r instanceof XmlError ? {} : r);
        expect(out).not.toContain(SECRET);
        expect(out.length).toBeLessThan(20 * (x.length + 20));
      }),
      fcOptions(),
    );
  });

  it('interpretSoapResponse: the body, or a DeviceError with a reason, for any status and bytes', () => {
    const body = fc.oneof(soapAnswer, dtdAttack, fc.string({ maxLength: 200 }));
    fc.assert(
      fc.property(fc.constantFrom(200, 400, 401, 403, 404, 500, 503), body, (status, b) => {
        try {
          interpretSoapResponse(status, Buffer.from(b), 'Fuzz');
        } catch (err) {
          if (isCrash(err) || !(err instanceof DeviceError)) throw err;
          expect(err.reason).toMatch(/^[a-z-]+(:.+)?$/);
        }
      }),
      fcOptions(),
    );
  });
});

describe('regressions found by the properties', { timeout: TIMEOUT_MS }, () => {
  it('a processing instruction inside the XML declaration is an XmlError, not a parser crash', () => {
    // Shrunk: the validator accepted it, fast-xml-parser then threw "Pi Tag is not closed."
    const x =
      '<?xml version="<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>2Gyqi-v,K</env:Body></env:Envelope>';
    expect(() => parseXml(x)).toThrow(XmlError);
    expect(() => parseXml('<?xml version="<?xml version="1.0"?><a/>')).toThrow(XmlError);
  });
});
