import { Type, type Static, type StringOptions, type TString } from '@sinclair/typebox';

/**
 * The schema, not the key's name, says where a secret sits: a relay's `token` is an
 * output's name, an API token's `token` is a credential. The keyword is an `x-`
 * extension so JSON Schema tools that meet it pass it by.
 */
export const SECRET_KEYWORD = 'x-secret';

/**
 * A secret string. In YAML it is written as a reference ({ env } or { file }), which
 * the loader resolves before validation; the schema then sees the plain value, and
 * no error ever echoes it.
 */
export function Secret(options: StringOptions = {}): TString {
  return Type.String({ ...options, [SECRET_KEYWORD]: true });
}

export function isSecretSchema(schema: unknown): boolean {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    (schema as Record<string, unknown>)[SECRET_KEYWORD] === true
  );
}

/** Where to find a secret: an environment variable or a file (Docker/Kubernetes secrets). */
export const SecretRefSchema = Type.Union(
  [
    Type.Object({ env: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ],
  { description: 'a secret reference: { env: NAME } or { file: PATH }' },
);
export type SecretRef = Static<typeof SecretRefSchema>;

/** Turns a reference into the secret; throws an Error saying what is missing (never the value). */
export type SecretResolver = (ref: SecretRef, field: string) => string;
