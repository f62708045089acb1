import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandRecord } from './schema.ts';

export interface AuditEntry {
  time: string;
  id: string;
  requestId: string;
  device: string;
  action: string;
  actor: string;
  reason: string;
  state: CommandRecord['state'];
  failure?: string;
  detail?: string;
}

/**
 * Append-only JSON-lines audit of every gate command and each of its state changes.
 * Each line is fsynced before the command moves on: gate commands are rare and the
 * record of who opened a gate must survive a power cut.
 */
export class AuditLog {
  private fd: number | undefined;
  readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'commands.jsonl');
  }

  /** Entries already on disk; a torn last line (power cut mid-write) is skipped. */
  readAll(): AuditEntry[] {
    if (!existsSync(this.file)) return [];
    const out: AuditEntry[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as AuditEntry);
      } catch {
        // torn write: ignore the fragment; the next append starts on a fresh line
      }
    }
    return out;
  }

  append(entry: AuditEntry): void {
    if (this.fd === undefined) {
      this.fd = openSync(this.file, 'a');
      writeSync(this.fd, '\n'); // terminates a torn line left by a crash; blank lines are skipped
    }
    writeSync(this.fd, JSON.stringify(entry) + '\n');
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
