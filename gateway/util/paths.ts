import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './child.ts';

/**
 * The folder of a module's source file. Data kept beside the source (device profiles,
 * the status page) is not copied into dist/ by tsc, so a module running from
 * dist/<dir> reads its data from <root>/<dir>; the container image ships those folders
 * at the same place.
 */
export function sourceDir(moduleUrl: string): string {
  const here = path.dirname(fileURLToPath(moduleUrl));
  const rel = path.relative(path.join(ROOT, 'dist'), here);
  const inDist = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  return inDist ? path.join(ROOT, rel) : here;
}
