import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Whether an executable is on PATH (socat, influxd…), without spawning it. */
export function hasCommand(name: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
