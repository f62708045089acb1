import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SecretRef } from '../../drivers/contract/secret.ts';
import { GatehouseError } from '../errors.ts';

/**
 * Secrets never sit in the YAML: a config names where to find them, an environment
 * variable or a file (Docker/Kubernetes secrets), and they are resolved at start. The
 * message names what is missing; the loader adds where the reference sits.
 */
export function resolveSecret(ref: SecretRef, baseDir: string): string {
  if ('env' in ref) {
    const v = process.env[ref.env];
    if (v === undefined || v === '') {
      throw new GatehouseError('GH_CONFIG_SECRET', [
        `environment variable ${ref.env} is not set (the config refers to it for a secret)`,
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
      [`cannot read secret file ${file}: ${(err as Error).message}`],
      {
        cause: err,
      },
    );
  }
}
