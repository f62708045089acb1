import { Kind, type TObject, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { isSecretSchema, SecretRefSchema, type SecretResolver } from './secret.ts';

export type SchemaPath = (string | number)[];

/**
 * What a problem is, so a caller can map it onto its own error codes and a loader can
 * point at it: an unknown key is shown at the key, anything else at its value.
 */
export type ProblemKind = 'yaml' | 'unknown-key' | 'invalid' | 'secret';

export interface SchemaProblem {
  kind: ProblemKind;
  path: SchemaPath;
  message: string;
}

/** How a path reads in a message: `devices[0].password`. */
export function fieldName(p: readonly (string | number)[]): string {
  return p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');
}

/** A JSON pointer as a path; a segment is a number only where the value holds a list (a map may have key "0"). */
function pathOf(pointer: string, root: unknown): SchemaPath {
  let at = root;
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => {
      const key = Array.isArray(at) && /^\d+$/.test(s) ? Number(s) : s;
      at = typeof at === 'object' && at !== null ? (at as Record<string | number, unknown>)[key] : undefined;
      return key;
    });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Branch = { schema: TSchema } | { problem: { path: SchemaPath; message: string } } | undefined;

/**
 * Which branch of a union a value means. Objects that all carry one literal key
 * (`type`, `driver`) are told apart by it; otherwise the branch sharing the most keys
 * with the value wins. Reporting that branch's errors gives one line per field instead
 * of every branch's complaint.
 */
function branchOf(union: TSchema, value: unknown): Branch {
  const anyOf = (union as { anyOf?: TSchema[] }).anyOf ?? [];
  const objects = anyOf.filter((s): s is TObject => s[Kind] === 'Object');
  if (objects.length === 0 || !isRecord(value)) return undefined;
  const literal = (o: TObject, k: string) =>
    o.properties[k]?.[Kind] === 'Literal' ? o.properties[k] : undefined;
  const tag = Object.keys(objects[0]!.properties).find((k) => objects.every((o) => literal(o, k)));
  if (tag) {
    const match = objects.find((o) => literal(o, tag)!.const === value[tag]);
    if (match) return { schema: match };
    const list = objects.map((o) => String(literal(o, tag)!.const)).join(', ');
    const message =
      value[tag] === undefined
        ? `required field is missing — expected one of ${list}`
        : `unknown ${tag} ${JSON.stringify(value[tag])} — expected one of ${list}`;
    return { problem: { path: [tag], message } };
  }
  const score = (o: TObject) => Object.keys(value).filter((k) => k in o.properties).length;
  const best = objects.reduce((a, b) => (score(b) > score(a) ? b : a));
  return score(best) > 0 ? { schema: best } : undefined;
}

function literalsOf(schema: TSchema): string[] | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!anyOf?.length || !anyOf.every((s) => s[Kind] === 'Literal')) return undefined;
  return anyOf.map((s) => String(s.const));
}

function describe(err: ValueError, path: SchemaPath): SchemaProblem {
  if (err.type === ValueErrorType.ObjectAdditionalProperties) {
    return { kind: 'unknown-key', path, message: 'unknown key (remove it or check its spelling)' };
  }
  const literals = literalsOf(err.schema);
  const description = (err.schema as { description?: string }).description;
  const hint = description
    ? ` — expected ${description}`
    : literals
      ? ` — expected one of ${literals.join(', ')}`
      : '';
  if (err.type === ValueErrorType.ObjectRequiredProperty) {
    return { kind: 'invalid', path, message: `required field is missing${hint}` };
  }
  // A secret is resolved before validation: never echo its value into an error.
  const got =
    err.value === undefined ? 'nothing' : isSecretSchema(err.schema) ? '[secret]' : JSON.stringify(err.value);
  const message = literals
    ? `expected one of ${literals.join(', ')}, got ${got}`
    : `${err.message.charAt(0).toLowerCase()}${err.message.slice(1)}, got ${got}${hint}`;
  return { kind: 'invalid', path, message };
}

function errorProblems(err: ValueError, at: SchemaPath): SchemaProblem[] {
  if (err.type === ValueErrorType.Union) {
    const branch = branchOf(err.schema, err.value);
    if (branch && 'problem' in branch) {
      return [{ kind: 'invalid', path: [...at, ...branch.problem.path], message: branch.problem.message }];
    }
    if (branch) {
      // The union's own defaulting gave up on this value, so fill the branch's defaults here.
      const found = schemaProblems(branch.schema, Value.Default(branch.schema, Value.Clone(err.value)), at);
      if (found.length > 0) return found;
    }
  }
  return [describe(err, at)];
}

/** Schema errors of a value (defaults already filled), one per path. */
function schemaProblems(schema: TSchema, value: unknown, base: SchemaPath = []): SchemaProblem[] {
  const out = new Map<string, SchemaProblem>();
  for (const err of Value.Errors(schema, value)) {
    for (const p of errorProblems(err, [...base, ...pathOf(err.path, value)])) {
      const key = fieldName(p.path);
      if (!out.has(key)) out.set(key, p);
    }
  }
  return [...out.values()];
}

const noSecrets: SecretResolver = () => {
  throw new Error('no secret can be read here');
};

function secretAt(value: unknown, at: SchemaPath, resolve: SecretResolver, out: SchemaProblem[]): unknown {
  if (!Value.Check(SecretRefSchema, value)) {
    out.push({
      kind: 'secret',
      path: at,
      message: 'secrets stay out of the YAML: write { env: VARIABLE } or { file: PATH } here',
    });
    return value;
  }
  try {
    return resolve(value, fieldName(at));
  } catch (err) {
    out.push({ kind: 'secret', path: at, message: (err as Error).message });
    return value;
  }
}

/** Walk the schema alongside the value; where the schema marks a secret, put the resolved secret. */
function resolveIn(
  schema: TSchema,
  value: unknown,
  at: SchemaPath,
  resolve: SecretResolver,
  out: SchemaProblem[],
): unknown {
  if (value === undefined) return value;
  if (isSecretSchema(schema)) return secretAt(value, at, resolve, out);
  const s = schema as {
    properties?: Record<string, TSchema>;
    patternProperties?: Record<string, TSchema>;
    items?: TSchema | TSchema[];
    allOf?: TSchema[];
  };
  const into = (sub: TSchema, obj: object, k: string | number) => {
    const o = obj as Record<string | number, unknown>;
    o[k] = resolveIn(sub, o[k], [...at, k], resolve, out);
  };
  switch (schema[Kind]) {
    case 'Object':
      if (isRecord(value))
        for (const [k, sub] of Object.entries(s.properties ?? {})) if (k in value) into(sub, value, k);
      break;
    case 'Record': {
      const sub = Object.values(s.patternProperties ?? {})[0];
      if (sub && isRecord(value)) for (const k of Object.keys(value)) into(sub, value, k);
      break;
    }
    case 'Array':
      if (Array.isArray(value) && s.items && !Array.isArray(s.items)) {
        const items = s.items;
        value.forEach((_, i) => into(items, value, i));
      }
      break;
    case 'Intersect':
      for (const sub of s.allOf ?? []) {
        const next = resolveIn(sub, value, at, resolve, out);
        if (next !== value) return next;
      }
      break;
    case 'Union': {
      const branch = branchOf(schema, value);
      if (branch && 'schema' in branch) return resolveIn(branch.schema, value, at, resolve, out);
      break;
    }
  }
  return value;
}

const under = (p: SchemaPath, q: SchemaPath) => q.length <= p.length && q.every((k, i) => p[i] === k);

/**
 * Check a value against a schema: resolve the secrets it marks, fill defaults, and list
 * every problem (a path whose secret failed is not reported again by the schema).
 * The input is not modified.
 */
export function validate(
  schema: TSchema,
  input: unknown,
  resolve: SecretResolver = noSecrets,
): { value: unknown; problems: SchemaProblem[] } {
  const problems: SchemaProblem[] = [];
  const resolved = resolveIn(schema, Value.Clone(input), [], resolve, problems);
  const value = Value.Default(schema, resolved);
  const failed = problems.map((p) => p.path);
  for (const p of schemaProblems(schema, value)) if (!failed.some((f) => under(p.path, f))) problems.push(p);
  return { value, problems };
}
