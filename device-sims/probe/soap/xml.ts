/** XML text/attribute escaping and small readers for parsed (prefix-stripped) SOAP trees. */

export function esc(s: string | number | boolean): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A parsed node: fast-xml-parser gives a string for text-only elements, an object otherwise. */
export type XmlNode = string | { [key: string]: XmlNode | XmlNode[] } | undefined;

/** The text of an element whether it has attributes or not. */
export function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node.trim();
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    const t = (node as Record<string, unknown>)['#text'];
    if (t !== undefined) return String(t).trim();
    return '';
  }
  return undefined;
}

/** A child element (first one when repeated). */
export function child(node: unknown, name: string): unknown {
  if (!node || typeof node !== 'object') return undefined;
  const v = (node as Record<string, unknown>)[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Walk a path of child names. */
export function at(node: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((n, p) => child(n, p), node);
}

export function attr(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const v = (node as Record<string, unknown>)[`@_${name}`];
  return v === undefined ? undefined : String(v);
}

/** ISO 8601 UTC without milliseconds, as cameras print it. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Parse an xs:duration such as PT60S, PT1M30S, P1D. Returns milliseconds, or undefined
 * when the text is not a duration.
 */
export function parseDuration(s: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(s.trim());
  if (!m || s.trim() === 'P' || s.trim() === 'PT') return undefined;
  const [, d, h, min, sec] = m;
  return (
    ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 +
    Math.round(Number(sec ?? 0) * 1000)
  );
}

/** Either an xs:duration (relative to `nowMs`) or an absolute xs:dateTime. */
export function parseTermination(s: string, nowMs: number): number | undefined {
  const rel = parseDuration(s);
  if (rel !== undefined) return nowMs + rel;
  const abs = Date.parse(s);
  return Number.isNaN(abs) ? undefined : abs;
}
