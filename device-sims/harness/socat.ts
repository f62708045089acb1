import { existsSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startProcess, eventually, type Proc } from './child.ts';

/**
 * A pseudo-terminal pair made by socat: two real serial device paths wired back to
 * back, like a USB RS-485 adapter on each end of a short cable.
 */
export async function ptyPair(dir = mkdtempSync(path.join(os.tmpdir(), 'gh-pty-'))): Promise<{
  a: string;
  b: string;
  proc: Proc;
}> {
  const a = path.join(dir, 'ttyA');
  const b = path.join(dir, 'ttyB');
  const proc = startProcess('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`]);
  await eventually(() => existsSync(a) && existsSync(b), { what: `socat pty pair ${a} ${b}` });
  return { a, b, proc };
}
