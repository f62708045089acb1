import { DeviceError, type DriverError, type DriverErrorKind } from '../drivers/contract/errors.ts';

interface ErrorDef {
  /** HTTP status where the error reaches the API (the CLI exits 2 on any of them). */
  status: number;
  /** A sentence with named `{placeholders}`. */
  message: string;
  /** When a user meets it and what it tells them (docs/errors.md). */
  means: string;
}

/**
 * The error catalogue. Every error a user can meet has a stable code, an HTTP status
 * where it reaches the API, and a message template; tests, logs and the API all use
 * the code. Modules add their own entries here rather than throwing bare Errors.
 *
 * A message of just `{detail}` is deliberate: there the thrower writes the whole
 * sentence, because its start is what readers rely on — `file:line:column` for
 * editors and installers, the validation sentence naming the field for API clients.
 * `means` says what that sentence holds.
 */
export const ERRORS = {
  // configuration
  GH_CONFIG_NOT_FOUND: {
    status: 500,
    message: 'config file not found: {file}',
    means: 'the file given to --config does not exist',
  },
  GH_CONFIG_YAML: {
    status: 500,
    message: '{detail}',
    means: 'the config is not valid YAML; the detail starts with file:line:column',
  },
  GH_CONFIG_UNKNOWN_KEY: {
    status: 500,
    message: '{detail}',
    means: 'the config has a key no section knows (a typo?); each problem names file:line:column and the key',
  },
  GH_CONFIG_INVALID: {
    status: 500,
    message: '{detail}',
    means: 'the config breaks a rule; each problem names file:line:column, the field and what is expected',
  },
  GH_CONFIG_SECRET: {
    status: 500,
    message: '{detail}',
    means: 'a secret is written in the YAML, or its variable or file is missing; the detail names where',
  },
  GH_PROFILE_INVALID: {
    status: 500,
    message: '{detail}',
    means: 'a device profile breaks the profile format; the detail names the file and the field',
  },
  GH_PROFILE_NOT_FOUND: {
    status: 500,
    message: '{detail}',
    means: 'a device names a profile that is neither a built-in name nor an existing file',
  },
  // API
  GH_API_UNAUTHORIZED: {
    status: 401,
    message: 'missing or invalid bearer token',
    means: 'the request has no token, or one the gateway does not know',
  },
  GH_API_FORBIDDEN: {
    status: 403,
    message: '{detail}',
    means: "the token's role is below the route's; the detail names the token, its role and the role needed",
  },
  GH_API_BAD_REQUEST: {
    status: 400,
    message: '{detail}',
    means: 'the request does not fit the route; the detail is one sentence per bad field saying what to fix',
  },
  GH_API_NOT_FOUND: {
    status: 404,
    message: '{detail}',
    means: 'no such route, site or job; the detail says which',
  },
  GH_API_TOKEN_EXPIRED: {
    status: 401,
    message: 'token "{name}" expired at {expires}; ask the installer for a new one',
    means:
      'the token is known but past its `expires`; the installer issues a new one and reloads credentials',
  },
  GH_RATE_LIMITED: {
    status: 429,
    message: 'too many {what}; retry in {retryAfterS} s',
    means:
      'a rate limit of `api.limits` or `broker.limits` was reached (failed sign-ins, or commands per token or address); the answer carries Retry-After',
  },
  GH_CREDENTIALS_RELOAD: {
    status: 422,
    message: 'credentials not reloaded, the previous ones stay in force: {detail}',
    means: 'SIGHUP or POST /api/v1/admin/reload-credentials found the config file unreadable or invalid',
  },
  GH_INTERNAL: {
    status: 500,
    message: 'internal error; see the gateway log',
    means: 'a bug or an unexpected failure; the log has the stack',
  },
  GH_DEVICE_INVALID: {
    status: 400,
    message: 'invalid device: {problems}',
    means: 'a device saved during commissioning breaks a config rule',
  },
  // commissioning: live changes and the config file they are saved to
  GH_DEVICE_BUSY: {
    status: 409,
    message:
      'device "{device}" has a gate command under way; change or remove it once the command has finished',
    means:
      'commissioning tried to change or remove a barrier while a command for it was accepted or executing',
  },
  GH_BUS_INVALID: {
    status: 400,
    message: 'invalid bus: {problems}',
    means:
      'a bus added during commissioning breaks the bus schema, or its id is taken; each problem names the field',
  },
  GH_BUS_NOT_FOUND: {
    status: 404,
    message: 'no bus with id "{bus}" (known: {known})',
    means: 'a sweep or a bus removal names a bus the running gateway does not have',
  },
  GH_BUS_IN_USE: {
    status: 409,
    message: 'bus "{bus}" still carries {devices}; remove those devices or move them to another bus first',
    means: 'a bus removal while devices are on it: they would lose their line',
  },
  GH_SCAN_RUNNING: {
    status: 409,
    message: 'bus "{bus}" is already being swept; watch that sweep\'s job or wait for it to finish',
    means: 'a second sweep of one bus would only slow both and the polling on it',
  },
  GH_CONFIG_REFUSED: {
    status: 409,
    message: 'nothing was changed: {file} would not load after this change: {detail}',
    means:
      'the config file as it is on disk, with the change applied, fails the loader (often a hand edit since the gateway started); the detail names file:line:column',
  },
  GH_CONFIG_WRITE: {
    status: 500,
    message: 'nothing was changed: could not save {file}: {detail}',
    means:
      'the village config could not be written (a read-only mount, a full disk, permissions); the running gateway is left as it was, so memory and file agree',
  },
  GH_GATEWAY_UNREACHABLE: {
    status: 502,
    message: 'cannot reach the gateway at {url}: {detail}',
    means:
      'a command that talks to a running gateway (status, scan-modbus, add, remove) got no answer at --url (not running, a wrong --url, a firewall) or no Gatehouse answer; status exits 2',
  },
  GH_DEVICE_NOT_FOUND: {
    status: 404,
    message: 'no device with id "{device}"',
    means: 'the id names no configured device',
  },
  GH_DEVICE_NOT_BARRIER: {
    status: 409,
    message: 'device "{device}" is a {kind}, not a barrier',
    means: 'a gate command was sent to a device that is not a barrier',
  },
  GH_COMMAND_NOT_FOUND: {
    status: 404,
    message: 'no command with id "{command}"',
    means: 'the id names no command the gateway remembers',
  },
  GH_COMMAND_CONFLICT: {
    status: 409,
    message: '{detail}',
    means: 'a requestId was reused for another command; the detail names the first one',
  },
  GH_COMMAND_QUEUE_FULL: {
    status: 429,
    message:
      'barrier "{device}" already has {queued} commands waiting (commands.maxQueuedPerBarrier); wait for them to finish, then send again',
    means: 'a flood of commands for one barrier: the gateway refuses more rather than queue them for minutes',
  },
  GH_COMMAND_SIGNATURE: {
    status: 403,
    message: 'command from the uplink refused: {detail}',
    means:
      'the bridge has a `commandKey` and a command from the town broker had no valid hmac, or an issuedAt too far from the gateway clock',
  },
  GH_AUDIT_UNREADABLE: {
    status: 500,
    message: 'cannot read the command audit log {file} back: {detail}',
    means:
      'at start the gateway reads its audit log to recover commands under way; the path is not a regular file (a device, a pipe, a directory) or cannot be read: move it aside or fix its permissions',
  },
  GH_COMMAND_NOT_RECORDED: {
    status: 503,
    message:
      'the command could not be recorded in the audit log ({detail}); nothing was actuated: free space in the data directory, then send it again with a new requestId',
    means:
      'the audit log refused the write (disk full, read-only): a gate is never moved without its record on disk',
  },
  GH_COMMAND_UNSUPPORTED: {
    status: 422,
    message: '{detail}',
    means: 'the device cannot do this (a feature it lacks, or the wrong kind of device)',
  },
  GH_COMMAND_FAILED: {
    status: 500,
    message: 'the gateway could not take the command: {detail}',
    means: 'an MQTT command failed for a reason that has no code of its own; the log has the cause',
  },
  GH_DEVICE_REJECTED: {
    status: 409,
    message: '{detail}',
    means: "the device refused the command; the detail is the device's answer",
  },
  GH_DEVICE_FAILED: {
    status: 502,
    message: 'device "{device}" failed ({reason}): {detail}',
    means: 'the device answered wrongly; the reason is a health reason',
  },
  GH_DEVICE_TIMEOUT: {
    status: 504,
    message: 'device "{device}" did not answer in time ({reason}): {detail}',
    means: 'the device did not answer',
  },
  // runtime
  GH_PORT_IN_USE: {
    status: 500,
    message: '{what} port {port} is already in use: stop what holds it or pick another ({flag})',
    means: 'another process holds a port the gateway listens on',
  },
  GH_TLS_FILE: {
    status: 500,
    message: '{what}: cannot use {file}: {detail}',
    means:
      'a certificate, key or CA file named under `tls` is missing, unreadable, not PEM, or the key does not fit the certificate',
  },
  GH_TLS_PLAIN_CREDENTIALS: {
    status: 500,
    message: '{what} takes {credentials} over plain TCP on {address}, which is not loopback: {advice}',
    means:
      'a warning at start: passwords or tokens cross the network unencrypted; configure `tls` or bind the plain listener to 127.0.0.1',
  },
  GH_CLI_USAGE: {
    status: 400,
    message: '{detail}',
    means: "the command line does not parse; the detail is the parser's complaint and the usage",
  },
  GH_STATUS_REFUSED: {
    status: 502,
    message: 'the gateway at {url} answered {status}: {detail}',
    means: '`gatehouse status` got an error answer (401: a missing or wrong token); it exits 2',
  },
  // MQTT
  GH_MQTT_COMMAND_INVALID: {
    status: 400,
    message: '{detail}',
    means:
      'a `<device>/cmd` payload is not a valid command; the detail names the field (on `<device>/cmd/result`)',
  },
  GH_BRIDGE_QUEUE: {
    status: 500,
    message: "the bridge queue's offset file {file} does not hold a byte offset",
    means: 'the uplink queue on disk is damaged; remove the offset file to resend the whole queue',
  },
  // InfluxDB sink and its disk spool (log codes; see gateway/sinks/influx)
  GH_INFLUX_UNAVAILABLE: {
    status: 503,
    message: 'InfluxDB unavailable: {detail}',
    means: 'InfluxDB does not answer; points go to the disk spool',
  },
  GH_INFLUX_REJECTED: {
    status: 500,
    message: 'InfluxDB refused a batch: {detail}',
    means: 'InfluxDB refused points as malformed or conflicting; they are dropped and counted',
  },
  GH_INFLUX_SCHEMA: {
    status: 500,
    message: 'InfluxDB refused the schema statements: {detail}',
    means: 'creating the database, retention policies or continuous queries failed',
  },
  GH_SPOOL_WRITE: {
    status: 500,
    message: 'could not write the spool: {detail}',
    means: 'a batch could not be written to the disk spool (disk full, permissions); its points are lost',
  },
  GH_SPOOL_FULL: {
    status: 500,
    message: 'spool over its size bound: {detail}',
    means: 'the spool reached maxBytes; its oldest segment was dropped and counted in points_dropped',
  },
  GH_SPOOL_TRUNCATED: {
    status: 500,
    message: 'spool segment tail truncated: {detail}',
    means: 'a segment ended in a half-written record (a crash); the torn tail was cut',
  },
  GH_SPOOL_CORRUPT: {
    status: 500,
    message: 'corrupt spool record: {detail}',
    means:
      'a spool record failed its checksum while replaying; the rest of its segment is dropped and counted',
  },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

type Placeholders<S extends string> = S extends `${string}{${infer P}}${infer Rest}`
  ? P | Placeholders<Rest>
  : never;
type Arg = string | number;

/**
 * A message's values: by name, or in the order the placeholders first appear (the
 * older positional form, still accepted).
 */
export type ErrorArgs<C extends ErrorCode> =
  readonly Arg[] | { readonly [K in Placeholders<(typeof ERRORS)[C]['message']>]: Arg };

export function formatMessage<C extends ErrorCode>(code: C, args: ErrorArgs<C> = []): string {
  const template: string = ERRORS[code].message;
  const names = [...new Set(Array.from(template.matchAll(/\{(\w+)\}/g), (m) => m[1]!))];
  const value = (name: string): Arg | undefined =>
    Array.isArray(args) ? (args as readonly Arg[])[names.indexOf(name)] : (args as Record<string, Arg>)[name];
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(value(name) ?? ''));
}

export class GatehouseError<C extends ErrorCode = ErrorCode> extends Error {
  readonly statusCode: number;
  readonly details: Record<string, unknown> | undefined;
  constructor(
    readonly code: C,
    args: ErrorArgs<C> = [],
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(formatMessage(code, args), options);
    this.name = 'GatehouseError';
    this.statusCode = ERRORS[code].status;
    this.details = options?.details;
  }
}

export function isGatehouseError(err: unknown): err is GatehouseError {
  return err instanceof GatehouseError;
}

const DRIVER_ERROR_CODES: Record<Exclude<DriverErrorKind, 'device'>, ErrorCode> = {
  unsupported: 'GH_COMMAND_UNSUPPORTED',
  rejected: 'GH_DEVICE_REJECTED',
  'invalid-argument': 'GH_API_BAD_REQUEST',
  'invalid-config': 'GH_CONFIG_INVALID',
  'profile-invalid': 'GH_PROFILE_INVALID',
  'profile-not-found': 'GH_PROFILE_NOT_FOUND',
};

/**
 * What a driver's failure means to the gateway's users. Drivers say what kind of
 * failure it was; only here does a kind become a code and an HTTP status. `device`
 * names the device for device-side failures.
 */
export function fromDriverError(err: DriverError, device = 'unknown'): GatehouseError {
  if (err instanceof DeviceError) {
    const code = err.reason === 'timeout' ? 'GH_DEVICE_TIMEOUT' : 'GH_DEVICE_FAILED';
    return new GatehouseError(
      code,
      { device, reason: err.reason, detail: err.message },
      { cause: err, details: { reason: err.reason, health: err.status } },
    );
  }
  const code = DRIVER_ERROR_CODES[err.kind as Exclude<DriverErrorKind, 'device'>];
  return new GatehouseError(code, [err.message], {
    cause: err,
    ...(err.details ? { details: err.details } : {}),
  });
}
