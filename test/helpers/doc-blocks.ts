import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Generated blocks in Markdown files: `<!-- NAME:start -->` … `<!-- NAME:end -->`, written
 * from a source table. A test compares each block with what the source makes of it;
 * `GATEHOUSE_UPDATE_DOCS=1` rewrites out-of-date blocks in place (and only them).
 */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A Markdown table aligned as prettier prints it, so `prettier --check` leaves it alone. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => c.replace(/\|/g, '\\|')));
  // Prettier counts display width; the vocabularies hold no wide (CJK) characters.
  const width = (s: string) => [...s].length;
  const widths = header.map((_, i) => Math.max(3, ...cells.map((r) => width(r[i] ?? ''))));
  const line = (r: readonly string[]) =>
    `| ${widths.map((w, i) => (r[i] ?? '') + ' '.repeat(w - width(r[i] ?? ''))).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

export function markedBlock(name: string, body: string): string {
  return `<!-- ${name}:start -->\n\n${body}\n\n<!-- ${name}:end -->`;
}

/** Throws, with the block to paste, when `file`'s block `name` is not `body`. */
export function assertBlock(file: string, name: string, body: string): void {
  const text = readFileSync(file, 'utf8');
  const startMarker = `<!-- ${name}:start -->`;
  const endMarker = `<!-- ${name}:end -->`;
  const expected = markedBlock(name, body);
  const where = path.relative(ROOT, file);
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start < 0 || end < start) {
    throw new Error(`${where} has no ${startMarker} … ${endMarker} block; add:\n\n${expected}\n`);
  }
  const actual = text.slice(start, end + endMarker.length);
  if (actual === expected) return;
  if (process.env.GATEHOUSE_UPDATE_DOCS === '1') {
    writeFileSync(file, text.slice(0, start) + expected + text.slice(end + endMarker.length));
    return;
  }
  throw new Error(
    `${where}: the ${name} block is out of date (run with GATEHOUSE_UPDATE_DOCS=1, or replace it with):\n\n${expected}\n`,
  );
}
