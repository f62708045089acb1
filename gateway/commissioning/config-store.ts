import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Document } from 'yaml';
import type { DriverPlugin } from '../../drivers/contract/plugin.ts';
import { parseConfig, type VillageConfig } from '../config/load.ts';
import { SECTIONS } from '../config/sections.ts';
import { GatehouseError, isGatehouseError } from '../errors.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { parseConfigDocument, renderConfigDocument } from './yaml-edit.ts';

/** What a commissioning change answers. */
export interface Saved {
  id: string;
  /** The config file the change is in; absent when the gateway runs without one. */
  savedTo?: string;
}

/** A change on disk: the config as the loader reads it now, and the way back. */
export interface SavedChange {
  file: string;
  config: VillageConfig;
  undo(): Promise<void>;
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? err);
}

/**
 * The village config file as commissioning changes it. Each change is made to the file
 * as it is on disk (an installer's hand edit since start is kept), checked by the same
 * loader as a start would use, and only then written, atomically. A gateway started
 * without a file (tests, embedding) saves nothing.
 */
export class ConfigStore {
  constructor(
    readonly file: string | undefined,
    private readonly plugins: readonly DriverPlugin[],
  ) {}

  /** Where relative secret files of a definition are looked up, as the loader does. */
  get baseDir(): string {
    return this.file ? path.dirname(path.resolve(this.file)) : process.cwd();
  }

  get saving(): boolean {
    return this.file !== undefined && existsSync(this.file);
  }

  /** Apply `edit` to the file; undefined when there is no file to save to. */
  async change(edit: (doc: Document) => void): Promise<SavedChange | undefined> {
    const file = this.file;
    if (!file || !this.saving) return undefined;
    let previous: string;
    try {
      previous = await readFile(file, 'utf8');
    } catch (err) {
      throw new GatehouseError('GH_CONFIG_WRITE', { file, detail: `cannot read it: ${reason(err)}` });
    }
    const doc = parseConfigDocument(previous);
    if (doc.errors.length > 0) {
      throw new GatehouseError('GH_CONFIG_REFUSED', { file, detail: doc.errors[0]!.message });
    }
    edit(doc);
    const text = renderConfigDocument(doc);
    let config: VillageConfig;
    try {
      config = parseConfig(text, path.resolve(file), SECTIONS, this.plugins).config;
    } catch (err) {
      if (!isGatehouseError(err)) throw err;
      throw new GatehouseError('GH_CONFIG_REFUSED', { file, detail: err.message }, { cause: err });
    }
    if (text === previous) return { file, config, undo: async () => undefined };
    await this.write(file, text);
    return { file, config, undo: () => this.write(file, previous) };
  }

  private async write(file: string, text: string): Promise<void> {
    try {
      await writeFileAtomic(file, text);
    } catch (err) {
      throw new GatehouseError('GH_CONFIG_WRITE', { file, detail: reason(err) }, { cause: err });
    }
  }
}
