import { randomBytes } from 'node:crypto';
import { chown, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Replace a file so that a reader (or a restart after a power cut) sees the old text or
 * the new, never a torn one: a temp file in the same directory (rename is atomic only
 * within one file system), fsync, rename over the target, fsync of the directory so the
 * rename itself is on disk. The file keeps its mode and, where allowed, its owner.
 * A symlinked config (a ConfigMap, a deploy checkout) is replaced at its real path.
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const target = await realpath(file).catch(() => path.resolve(file));
  const before = await stat(target).catch(() => undefined);
  const dir = path.dirname(target);
  const tmp = path.join(
    dir,
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const fh = await open(tmp, 'wx', before ? before.mode & 0o7777 : 0o644);
  try {
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (before) await chown(tmp, before.uid, before.gid).catch(() => undefined);
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // The rename has happened: failing here would report a change as not made. Some file
  // systems refuse fsync on a directory; the rename stands either way.
  const dh = await open(dir, 'r').catch(() => undefined);
  await dh
    ?.sync()
    .catch(() => undefined)
    .finally(() => dh.close());
}
