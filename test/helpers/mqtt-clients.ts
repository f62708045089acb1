import { execFile } from 'node:child_process';
import { startProcess, type Proc } from './procs.ts';

/** mosquitto_pub / mosquitto_sub as independent clients: exit code and output. */
export function mosq(
  tool: 'mosquitto_pub' | 'mosquitto_sub',
  args: string[],
  timeoutMs = 15_000,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

/**
 * A long-running mosquitto_sub (line-buffered through stdbuf so each line arrives when
 * printed), resolved once its SUBACK came back. Message lines are "topic payload".
 */
export async function subscriber(port: number, auth: string[], args: string[]): Promise<Proc> {
  const proc = startProcess('stdbuf', [
    '-oL',
    'mosquitto_sub',
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    ...auth,
    '-d',
    '-v',
    ...args,
  ]);
  await proc.waitFor(/^Subscribed \(mid/, 15_000);
  return proc;
}

/** The message lines ("topic payload") a subscriber printed, without its debug lines. */
export function messages(proc: Proc): string[] {
  return proc
    .output()
    .split('\n')
    .filter((l) => l !== '' && !/^(Client |Subscribed )/.test(l));
}
