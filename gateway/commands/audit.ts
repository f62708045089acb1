import {
  closeSync,
  existsSync,
  fdatasync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../errors.ts';
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

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Append-only JSON-lines audit of every gate command and each of its state changes.
 * A line is written at once and its append resolves once it is on disk: the record of
 * who opened a gate must survive a power cut, and nothing is actuated before its record
 * is (gateway/commands/runner.ts). The sync runs off the event loop, one fdatasync for
 * every line written while the previous one ran (group commit), so a slow disk delays
 * the command waiting for it, not the polls, supervision and other commands.
 *
 * Past `rotateBytes` the file is renamed with its time and a new one begun. Rotated
 * files are never deleted here (an audit is archived, not pruned); the newest one is
 * read back at start with the current file, so idempotency survives a rotation.
 */
export class AuditLog {
  private fd: number | undefined;
  private size = 0;
  /** Lines written since the sync under way began: the next sync covers them. */
  private unsynced: Pending[] = [];
  private syncing = false;
  /** Files rotated or closed while a sync still ran on them: closed when it ends. */
  private retired: number[] = [];
  /** Told how long each sync took, seconds (metrics: a slow disk delays every gate command). */
  onSync?: (seconds: number) => void;
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
      for (const line of readBack(file).split('\n')) {
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

  /** Write the entry now; resolves once it is on disk, rejects if the disk refused it. */
  append(entry: AuditEntry): Promise<void> {
    try {
      if (this.fd === undefined) this.open();
      if (this.size >= this.rotateBytes) this.rotate();
      this.size += writeSync(this.fd!, JSON.stringify(entry) + '\n');
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<void>((resolve, reject) => {
      this.unsynced.push({ resolve, reject });
      this.sync();
    });
  }

  private sync(): void {
    if (this.syncing || this.unsynced.length === 0 || this.fd === undefined) return;
    const batch = this.unsynced;
    this.unsynced = [];
    this.syncing = true;
    const started = performance.now();
    fdatasync(this.fd, (err) => {
      this.syncing = false;
      this.onSync?.((performance.now() - started) / 1000);
      for (const fd of this.retired.splice(0)) closeSync(fd);
      for (const p of batch)
        if (err) p.reject(err);
        else p.resolve();
      this.sync();
    });
  }

  /** Sync what was written on the current file now (before it is rotated or closed). */
  private syncNow(): void {
    if (this.fd === undefined) return;
    const batch = this.unsynced;
    this.unsynced = [];
    try {
      fsyncSync(this.fd);
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    }
  }

  private open(): void {
    this.fd = openSync(this.file, 'a');
    this.size = fstatSync(this.fd).size;
    this.size += writeSync(this.fd, '\n'); // terminates a torn line left by a crash; blank lines are skipped
  }

  private rotate(): void {
    this.close();
    // Two rotations within one millisecond (a burst of appends) must not overwrite each
    // other: the name moves on by a millisecond until it is free, keeping time order.
    let at = Date.now();
    const name = () =>
      path.join(this.dir, `commands-${new Date(at).toISOString().replace(/[:.]/g, '-')}.jsonl`);
    while (existsSync(name())) at++;
    renameSync(this.file, name());
    this.open();
  }

  /** Sync and close the current file; a later append opens it again. */
  close(): void {
    if (this.fd === undefined) return;
    this.syncNow();
    // A sync still running on the descriptor must not see it closed (or reused) under it.
    if (this.syncing) this.retired.push(this.fd);
    else closeSync(this.fd);
    this.fd = undefined;
  }
}

/** A log file's text; a device or a pipe in its place would be read for ever, so only a regular file is. */
function readBack(file: string): string {
  try {
    if (!statSync(file).isFile()) throw new Error('not a regular file (a device, a pipe or a directory)');
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new GatehouseError('GH_AUDIT_UNREADABLE', { file, detail: (err as Error).message });
  }
}
