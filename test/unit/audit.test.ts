import { mkdtempSync, readdirSync, readFileSync, appendFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, type AuditEntry } from '../../gateway/commands/audit.ts';

const entry = (n: number): AuditEntry => ({
  time: new Date(1_800_000_000_000 + n).toISOString(),
  id: `cmd-${n}`,
  requestId: `req-${n}`,
  device: 'gate-1',
  action: 'open',
  actor: 'api:fee',
  reason: 'paid',
  state: 'confirmed',
});

describe('command audit log', () => {
  it("refuses to read back a device in the log file's place (it would be read for ever), naming it", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-audit-'));
    symlinkSync('/dev/zero', path.join(dir, 'commands.jsonl'));
    const log = new AuditLog(dir);
    expect(() => log.readAll()).toThrow(
      expect.objectContaining({
        code: 'GH_AUDIT_UNREADABLE',
        message: expect.stringMatching(/commands\.jsonl back: not a regular file/),
      }),
    );
  });

  it('survives a torn last line and reads back in order', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-audit-'));
    const log = new AuditLog(dir);
    log.append(entry(1));
    log.close();
    appendFileSync(path.join(dir, 'commands.jsonl'), '{"time":"2026-'); // power cut mid-write
    const again = new AuditLog(dir);
    again.append(entry(2));
    again.close();
    expect(again.readAll().map((e) => e.id)).toEqual(['cmd-1', 'cmd-2']);
  });

  it('rotates past its size, keeps every file, and reads the newest rotated file back', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-audit-'));
    const log = new AuditLog(dir, 1000);
    for (let n = 1; n <= 30; n++) log.append(entry(n));
    log.close();
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThan(2);
    expect(files).toContain('commands.jsonl');
    // Nothing was lost across the files, in order.
    const all = files
      .filter((f) => f !== 'commands.jsonl')
      .concat('commands.jsonl')
      .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean))
      .map((l) => (JSON.parse(l) as AuditEntry).id);
    expect(all).toEqual(Array.from({ length: 30 }, (_, i) => `cmd-${i + 1}`));
    // Read back: the newest rotated file plus the current one, ending with the last entry.
    const back = new AuditLog(dir, 1000).readAll().map((e) => e.id);
    expect(back.at(-1)).toBe('cmd-30');
    expect(back.length).toBeGreaterThan(
      readFileSync(path.join(dir, 'commands.jsonl'), 'utf8').split('\n').filter(Boolean).length,
    );
  });

  it('resolves every append of a burst once on disk, in order, and rejects what the disk refused', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-audit-'));
    const log = new AuditLog(dir);
    // A burst lands in few syncs (group commit); each append still resolves only after one.
    await Promise.all(Array.from({ length: 50 }, (_, n) => log.append(entry(n))));
    log.close();
    expect(new AuditLog(dir).readAll().map((e) => e.id)).toEqual(
      Array.from({ length: 50 }, (_, n) => `cmd-${n}`),
    );

    // A disk that refuses every write (the kernel's /dev/full answers ENOSPC).
    const full = mkdtempSync(path.join(os.tmpdir(), 'gh-audit-full-'));
    symlinkSync('/dev/full', path.join(full, 'commands.jsonl'));
    const refused = new AuditLog(full);
    await expect(refused.append(entry(1))).rejects.toMatchObject({ code: 'ENOSPC' });
  });
});
