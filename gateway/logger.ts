import { createRequire } from 'node:module';
import pino, { type Logger, type LoggerOptions } from 'pino';

/** pino-pretty is a dev dependency: a production install (the container) logs JSON even on a TTY. */
function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/** Paths redacted wherever they appear in a log line: secrets never reach a log. */
export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.*.password',
  '*.*.token',
  'headers.authorization',
  'req.headers.authorization',
  'config.api.tokens',
  'config.broker.users',
  // Hashes are not secrets, yet a hash in a log lets anyone test guesses offline.
  'tokenHash',
  'passwordHash',
  '*.tokenHash',
  '*.passwordHash',
  'hmac',
  '*.hmac',
  'commandKey',
  '*.commandKey',
  'config.bridge.password',
  'config.bridge.commandKey',
];

export function createLogger(opts: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const options: LoggerOptions = {
    name: opts.name ?? 'gatehouse',
    level: opts.level ?? process.env.GATEHOUSE_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  // GATEHOUSE_LOG_FORMAT overrides the TTY guess (the demo asks for pretty lines through a pipe).
  const format = process.env.GATEHOUSE_LOG_FORMAT;
  const pretty = format ? format === 'pretty' : opts.pretty;
  if (pretty && prettyAvailable()) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', singleLine: true },
      },
    });
  }
  return pino(options);
}

export type { Logger };
