import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GatehouseError } from '../errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with errors in our catalogue's words, and --help everywhere. */
export function parse<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if ((values as Record<string, unknown>).help) {
      console.log(usage);
      process.exit(0);
    }
    return {
      values: values as { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string },
      positionals,
    };
  } catch (err) {
    throw new GatehouseError('GH_CLI_USAGE', [`${(err as Error).message}\n\n${usage}`]);
  }
}

export function port(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new GatehouseError('GH_CLI_USAGE', [`${flag} must be a port number 0-65535, got "${v}"`]);
  }
  return n;
}
