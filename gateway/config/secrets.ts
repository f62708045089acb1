import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { GatehouseError } from '../errors.ts';

/**
 * Secrets never sit in the YAML: a config names where to find them, an environment
 * variable or a file (Docker/Kubernetes secrets), and they are resolved at start.
 */
export const SecretRefSchema = Type.Union(
  [
    Type.Object({ env: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ],
  { description: 'a secret reference: { env: NAME } or { file: PATH }' },
);
export type SecretRef = Static<typeof SecretRefSchema>;

export function resolveSecret(ref: SecretRef, where: string, baseDir: string): string {
  if ('env' in ref) {
    const v = process.env[ref.env];
    if (v === undefined || v === '') {
      throw new GatehouseError('GH_CONFIG_SECRET', [
        `${where}: environment variable ${ref.env} is not set (the config refers to it for a secret)`,
      ]);
    }
    return v;
  }
  const file = path.resolve(baseDir, ref.file);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new GatehouseError(
      'GH_CONFIG_SECRET',
      [`${where}: cannot read secret file ${file}: ${(err as Error).message}`],
      { cause: err },
    );
  }
}
