import type { Static, TSchema } from '@sinclair/typebox';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import { DriverError, type DriverErrorKind } from './errors.ts';
import {
  fieldName,
  validate,
  type ProblemKind,
  type SchemaPath,
  type SchemaProblem,
} from './schema-problems.ts';
import type { SecretResolver } from './secret.ts';

/**
 * One loader for every YAML file checked against a TypeBox schema (village config,
 * device profiles), so each reports its problems the same way: all of them, each as
 * `file:line:col: field: sentence`.
 */

/** A problem placed in its file; `line` is what a user reads. */
export interface LocatedProblem extends SchemaProblem {
  line: string;
}

/** Every problem of one file. A caller with its own error codes maps `problems[n].kind` onto them. */
export class SchemaLoadError extends DriverError {
  constructor(
    kind: DriverErrorKind,
    readonly file: string,
    readonly problems: readonly LocatedProblem[],
  ) {
    const lines = problems.map((p) => p.line);
    super(kind, lines.join('; '), { details: { source: file, problems: lines } });
    this.name = 'SchemaLoadError';
  }

  get lines(): string[] {
    return this.problems.map((p) => p.line);
  }
}

/** A problem found by a rule the schema cannot say; `kind` defaults to `invalid`. */
export type CheckProblem = Omit<SchemaProblem, 'kind'> & { kind?: ProblemKind };

export interface YamlSchemaOptions<T> {
  /** Kind of the thrown error: `invalid-config` (the default) or `profile-invalid`. */
  errorKind?: DriverErrorKind;
  /** Reads the secrets the schema marks; without it a file may hold none. */
  resolveSecret?: SecretResolver;
  /** Rules beyond the schema, run on the defaulted value once the schema passed. */
  check?: (value: T) => CheckProblem[];
}

/**
 * Where a path points in the YAML source: the value, or for an unknown key the key
 * itself; for a missing field, its nearest existing parent.
 */
function locate(doc: Document, lc: LineCounter, p: SchemaPath, atKey: boolean): string {
  const at = (offset: number) => {
    const pos = lc.linePos(offset);
    return `${pos.line}:${pos.col}`;
  };
  const last = p[p.length - 1];
  if (atKey && typeof last === 'string') {
    const parent = doc.getIn(p.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((i) => isScalar(i.key) && i.key.value === last);
      if (pair && isNode(pair.key) && pair.key.range) return at(pair.key.range[0]);
    }
  }
  for (let n = p.length; n >= 0; n--) {
    const node = doc.getIn(p.slice(0, n), true);
    if (isNode(node) && node.range) return at(node.range[0]);
  }
  return '1:1';
}

/**
 * Parse YAML text, resolve its secrets, fill schema defaults, validate, run `check`;
 * return the defaulted value or throw one SchemaLoadError listing every problem.
 */
export function parseYamlWithSchema<S extends TSchema>(
  text: string,
  file: string,
  schema: S,
  opts: YamlSchemaOptions<Static<S>> = {},
): Static<S> {
  const kind = opts.errorKind ?? 'invalid-config';
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e): LocatedProblem => {
      const pos = lc.linePos(e.pos[0]);
      const message = `YAML syntax error: ${e.message.split('\n')[0]}`;
      return { kind: 'yaml', path: [], message, line: `${file}:${pos.line}:${pos.col}: ${message}` };
    });
    throw new SchemaLoadError(kind, file, problems);
  }
  let js: unknown;
  try {
    js = doc.toJS();
  } catch (err) {
    // toJS refuses alias bombs (billion laughs in YAML) by throwing; the file is at fault, not us.
    const at = Math.max(0, text.search(/\*[^\s,\]}]+/));
    const pos = lc.linePos(at);
    const message = `YAML refused: ${(err as Error).message}`;
    throw new SchemaLoadError(kind, file, [
      { kind: 'yaml', path: [], message, line: `${file}:${pos.line}:${pos.col}: ${message}` },
    ]);
  }
  const { value, problems } = validate(schema, js ?? {}, opts.resolveSecret);
  if (problems.length === 0 && opts.check) {
    for (const p of opts.check(value as Static<S>)) problems.push({ ...p, kind: p.kind ?? 'invalid' });
  }
  if (problems.length > 0) {
    throw new SchemaLoadError(
      kind,
      file,
      problems.map((p) => ({
        ...p,
        line: `${file}:${locate(doc, lc, p.path, p.kind === 'unknown-key')}: ${fieldName(p.path) || '(top level)'}: ${p.message}`,
      })),
    );
  }
  return value as Static<S>;
}
