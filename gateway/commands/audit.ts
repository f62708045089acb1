import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { CommandRecord } from './schema.ts';

export interface AuditEntry {
  time: string;
  id: string;
  requestId: string;
  device: string;
  action: string;
  actor: string;
  origin?: CommandRecord['origin'];
  reason: string;
  state: CommandRecord['state'];
  failure?: CommandRecord['failure'];
  detail?: string;
  /** Measurements that go with this state (a supervised close: reads, arm angles, reversal latency). */
  data?: Record<string, string | number | boolean>;
}

const CURRENT = 'commands.jsonl';
/** Rotated files sort by name in time order: commands-2026-11-25T12-00-00-000Z.jsonl. */
const ROTATED = /^commands-.+\.jsonl$/;

/**
 * Append-only JSON-lines audit of every gate command and each of its state changes.
 * Each line is fsynced before the command moves on: gate commands are rare and the
 * record of who opened a gate must survive a power cut.
 *
 * Past `rotateBytes` the file is renamed with its time and a new one begun. Rotated
 * files are never deleted here (an audit is archived, not pruned); the newest one is
 * read back at start with the current file, so idempotency survives a rotation.
 */
export class AuditLog {
  private fd: number | undefined;
  private size = 0;
  readonly file: string;

  constructor(
    readonly dir: string,
    private readonly rotateBytes = 64 * 1024 * 1024,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, CURRENT);
  }

  /** Entries of the newest rotated file and the current one, oldest first; torn lines skipped. */
  readAll(): AuditEntry[] {
    const rotated = readdirSync(this.dir)
      .filter((f) => ROTATED.test(f))
      .sort();
    const files = [...rotated.slice(-1).map((f) => path.join(this.dir, f)), this.file].filter((f) =>
      existsSync(f),
    );
    const out: AuditEntry[] = [];
    for (const file of files) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          out.push(JSON.parse(line) as AuditEntry);
        } catch {
          // torn write: ignore the fragment; the next append starts on a fresh line
        }
      }
    }
    return out;
  }

  append(entry: AuditEntry): void {
    if (this.fd === undefined) this.open();
    if (this.size >= this.rotateBytes) this.rotate();
    const line = JSON.stringify(entry) + '\n';
    this.size += writeSync(this.fd!, line);
    fsyncSync(this.fd!);
  }

  private open(): void {
    this.fd = openSync(this.file, 'a');
    this.size = fstatSync(this.fd).size;
    this.size += writeSync(this.fd, '\n'); // terminates a torn line left by a crash; blank lines are skipped
  }

  private rotate(): void {
    this.close();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    renameSync(this.file, path.join(this.dir, `commands-${stamp}.jsonl`));
    this.open();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
