import { Type, type Static } from '@sinclair/typebox';

/**
 * What a health reason tells the maintenance crew, who read it on a phone at night at
 * the gate: what happened, then what to check. The status page shows `means — check`.
 */
export interface CrewWords {
  means: string;
  check: string;
}

/**
 * Health reasons: the one table of them. Drivers, logs, the API, MQTT state and
 * InfluxDB use these words, the status page shows the crew's words from here (served
 * at /status/vocabulary.json), and the README's list is generated from it. A new
 * reason is one entry here, with its crew words.
 */
export const HEALTH_REASON_WORDS = {
  timeout: { means: 'no answer in time', check: 'check power and cable' },
  'connection-refused': { means: 'device refused the connection', check: 'is it running?' },
  'crc-error': { means: 'garbled data on the RS-485 line', check: 'check wiring and termination' },
  'illegal-address': { means: 'controller rejects the register map', check: 'wrong profile?' },
  'illegal-function': { means: 'controller does not support a request', check: 'wrong profile?' },
  'auth-failed': {
    means: 'wrong user or password for the camera',
    check: 'the installer sets the right ones in the config',
  },
  'clock-skew': { means: 'camera clock is wrong', check: 'set NTP' },
  'stream-unreachable': { means: 'video stream does not answer', check: 'check the camera and its network' },
  'ir-fault': { means: 'picture is black at night', check: 'IR illuminator failed?' },
  'bad-response': { means: 'device answered with garbage', check: 'wrong profile or firmware?' },
  'port-unavailable': { means: 'serial port missing', check: 'adapter unplugged?' },
  'not-polled-yet': { means: 'starting up', check: 'wait a few seconds' },
} as const satisfies Record<string, CrewWords>;

export type BaseHealthReason = keyof typeof HEALTH_REASON_WORDS;
export const HEALTH_REASONS = Object.keys(HEALTH_REASON_WORDS) as BaseHealthReason[];

/**
 * The one parametrised reason: a barrier controller's own fault code. Codes are the
 * controller's integers, so the pattern takes a sign too.
 */
export const BARRIER_FAULT = {
  prefix: 'barrier-fault:',
  param: 'code',
  pattern: '^barrier-fault:-?[0-9]+$',
  means: 'barrier controller fault {code}',
  check: "read the fault on the controller's display; reset-fault once it is fixed",
} as const satisfies CrewWords & { prefix: string; param: string; pattern: string };
export type BarrierFaultReason = `barrier-fault:${number}`;

export const HealthReasonSchema = Type.Union(
  [
    ...HEALTH_REASONS.map((r) => Type.Literal(r)),
    Type.Unsafe<BarrierFaultReason>(Type.String({ pattern: BARRIER_FAULT.pattern })),
  ],
  { description: `${HEALTH_REASONS.join(' | ')} | barrier-fault:<code>` },
);
export type HealthReason = Static<typeof HealthReasonSchema>;

const spoken = (w: CrewWords) => `${w.means} — ${w.check}`;

/** The barrier-fault words with `{code}` still in them, for the status page to fill in. */
export const BARRIER_FAULT_WORDS = spoken(BARRIER_FAULT);

/** The crew's words for a reason, as the status page shows them. */
export function crewWords(reason: HealthReason): string {
  if (Object.hasOwn(HEALTH_REASON_WORDS, reason))
    return spoken(HEALTH_REASON_WORDS[reason as BaseHealthReason]);
  const code = reason.slice(BARRIER_FAULT.prefix.length);
  return BARRIER_FAULT_WORDS.replaceAll(`{${BARRIER_FAULT.param}}`, code);
}

export const HealthStatusSchema = Type.Union([
  Type.Literal('online'),
  Type.Literal('degraded'),
  Type.Literal('offline'),
]);
export type HealthStatus = Static<typeof HealthStatusSchema>;

/**
 * A device's own view of one of its features or checks: `unsupported` is a feature the
 * device lacks (a camera without imaging), never a fault; `failed` is a fault.
 */
export const FeatureStatusSchema = Type.Union([
  Type.Literal('ok'),
  Type.Literal('unsupported'),
  Type.Literal('failed'),
]);
export type FeatureStatus = Static<typeof FeatureStatusSchema>;

export const HealthCheckSchema = Type.Object({
  status: FeatureStatusSchema,
  reason: Type.Optional(Type.String({ description: 'health reason, when failed' })),
  detail: Type.Optional(Type.String()),
});

/** The outcome of one check of a poll (a camera: clock, media, snapshot, stream…). */
export interface HealthCheck {
  status: FeatureStatus;
  reason?: HealthReason;
  detail?: string;
}

export const HealthSchema = Type.Object({
  status: HealthStatusSchema,
  reason: Type.Optional(HealthReasonSchema),
  detail: Type.Optional(Type.String()),
  since: Type.String({ format: 'date-time' }),
  checks: Type.Optional(
    Type.Record(Type.String(), HealthCheckSchema, {
      description: "each check of the device's last poll, by name (drivers that run several)",
    }),
  ),
});

export interface Health {
  status: HealthStatus;
  reason?: HealthReason;
  /** Human words for the crew: what was seen, e.g. "no answer from unit 3 within 500 ms". */
  detail?: string;
  /** ISO time the status last changed. */
  since: string;
  /** Each check of the last poll, for drivers that run several; status and reason name the worst. */
  checks?: Record<string, HealthCheck>;
}

export function online(since = new Date()): Health {
  return { status: 'online', since: since.toISOString() };
}
