import { chmod, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

const SAFE_ID = /^[a-z0-9][a-z0-9_-]*$/;

/** A definition ready for the YAML, and how to take its secret file back. */
export interface Externalized {
  stored: Record<string, unknown>;
  undo(): Promise<void>;
}

/**
 * Installers type a password into a form; it never goes into the YAML. A plain password
 * is written to a 0600 file under the data dir and referenced from there. `undo` puts
 * back what the file held before (a change that failed keeps the old password working).
 */
export async function externalizeSecrets(
  raw: Record<string, unknown>,
  dataDir: string,
): Promise<Externalized> {
  const { password, id } = raw;
  if (typeof password !== 'string' || typeof id !== 'string' || !SAFE_ID.test(id)) {
    return { stored: raw, undo: async () => undefined };
  }
  const dir = path.join(dataDir, 'secrets');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${id}.password`);
  const before = await readFile(file, 'utf8').catch(() => undefined);
  await writeFile(file, password, { mode: 0o600 });
  await chmod(file, 0o600);
  return {
    stored: { ...raw, password: { file } },
    undo: async () => {
      if (before === undefined) await unlink(file).catch(() => undefined);
      else await writeFile(file, before, { mode: 0o600 });
    },
  };
}
