import { DeviceError, type DriverError, type DriverErrorKind } from '../drivers/contract/errors.ts';

/**
 * The error catalogue. Every error a user can meet has a stable code, an HTTP status
 * where it reaches the API, and a message template; tests, logs and the API all use
 * the code. Modules add their own entries here rather than throwing bare Errors.
 */
export const ERRORS = {
  // configuration
  GH_CONFIG_NOT_FOUND: { status: 500, message: 'config file not found: %s' },
  GH_CONFIG_YAML: { status: 500, message: '%s' },
  GH_CONFIG_UNKNOWN_KEY: { status: 500, message: '%s' },
  GH_CONFIG_INVALID: { status: 500, message: '%s' },
  GH_CONFIG_SECRET: { status: 500, message: '%s' },
  GH_PROFILE_INVALID: { status: 500, message: '%s' },
  GH_PROFILE_NOT_FOUND: { status: 500, message: '%s' },
  // API
  GH_API_UNAUTHORIZED: { status: 401, message: 'missing or invalid bearer token' },
  GH_API_FORBIDDEN: { status: 403, message: '%s' },
  GH_API_BAD_REQUEST: { status: 400, message: '%s' },
  GH_API_NOT_FOUND: { status: 404, message: '%s' },
  GH_DEVICE_INVALID: { status: 400, message: 'invalid device: %s' },
  GH_DEVICE_NOT_FOUND: { status: 404, message: 'no device with id "%s"' },
  GH_DEVICE_NOT_BARRIER: { status: 409, message: 'device "%s" is a %s, not a barrier' },
  GH_COMMAND_NOT_FOUND: { status: 404, message: 'no command with id "%s"' },
  GH_COMMAND_CONFLICT: { status: 409, message: '%s' },
  GH_COMMAND_UNSUPPORTED: { status: 422, message: '%s' },
  GH_DEVICE_REJECTED: { status: 409, message: '%s' },
  GH_DEVICE_FAILED: { status: 502, message: 'device "%s" failed (%s): %s' },
  GH_DEVICE_TIMEOUT: { status: 504, message: 'device "%s" did not answer in time (%s): %s' },
  // runtime
  GH_SINK_FAILED: { status: 503, message: '%s' },
  GH_PORT_IN_USE: {
    status: 500,
    message: '%s port %s is already in use: stop what holds it or pick another (%s)',
  },
  GH_CLI_USAGE: { status: 2, message: '%s' },
  // MQTT
  GH_MQTT_COMMAND_INVALID: { status: 400, message: '%s' },
  GH_BRIDGE_QUEUE: { status: 500, message: '%s' },
  // InfluxDB sink and its disk spool (log codes; see gateway/sinks/influx)
  GH_INFLUX_UNAVAILABLE: { status: 503, message: 'InfluxDB unavailable: %s' },
  GH_INFLUX_REJECTED: { status: 500, message: 'InfluxDB refused a batch: %s' },
  GH_INFLUX_SCHEMA: { status: 500, message: 'InfluxDB refused the schema statements: %s' },
  GH_SPOOL_WRITE: { status: 500, message: 'could not write the spool: %s' },
  GH_SPOOL_FULL: { status: 500, message: 'spool over its size bound: %s' },
  GH_SPOOL_TRUNCATED: { status: 500, message: 'spool segment tail truncated: %s' },
  GH_SPOOL_CORRUPT: { status: 500, message: 'corrupt spool record: %s' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class GatehouseError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    args: readonly (string | number)[] = [],
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    const def = ERRORS[code];
    let i = 0;
    super(
      def.message.replace(/%s/g, () => String(args[i++] ?? '')),
      options,
    );
    this.name = 'GatehouseError';
    this.statusCode = def.status;
    this.details = options?.details;
  }
  readonly details: Record<string, unknown> | undefined;
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
    return new GatehouseError(code, [device, err.reason, err.message], {
      cause: err,
      details: { reason: err.reason, health: err.status },
    });
  }
  const code = DRIVER_ERROR_CODES[err.kind as Exclude<DriverErrorKind, 'device'>];
  return new GatehouseError(code, [err.message], {
    cause: err,
    ...(err.details ? { details: err.details } : {}),
  });
}
