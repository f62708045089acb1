import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of a module's source file. Data kept beside the source (device profiles,
 * the status page) is not copied into dist/ by tsc, so a module running from
 * <root>/dist/<dir> reads its data from <root>/<dir>; the container image ships those
 * folders at the same place.
 */
export function sourceDir(moduleUrl: string): string {
  const here = path.dirname(fileURLToPath(moduleUrl));
  const parts = here.split(path.sep);
  const at = parts.lastIndexOf('dist');
  if (at <= 0) return here;
  return [...parts.slice(0, at), ...parts.slice(at + 1)].join(path.sep) || path.sep;
}
