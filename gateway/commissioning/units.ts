import { GatehouseError } from '../errors.ts';

/** Unit ids a sweep may visit: 0 is broadcast (every unit acts, none answers), 248+ are reserved. */
const FIRST = 1;
const LAST = 247;

/** "1-247" or "1,2,5-9" → the ids in order, each once; a bad list names what is wrong. */
export function parseUnits(spec: string): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || from < FIRST || to > LAST || from > to) {
      throw new GatehouseError('GH_API_BAD_REQUEST', {
        detail: `units: "${part}" is not a unit id or range within ${FIRST}-${LAST} (e.g. 1-247 or 1,2,5-9)`,
      });
    }
    for (let u = from; u <= to; u++) out.add(u);
  }
  return [...out];
}
