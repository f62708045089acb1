import { Type, type Static } from '@sinclair/typebox';
import type { Driver, DriverCommand, DriverContext, ReadResult } from '../contract/driver.ts';
import type { CanonicalFields, DeviceKind } from '../contract/canonical.ts';
import { type Health } from '../contract/health.ts';
import { DeviceError, DriverError } from '../contract/errors.ts';
import { mapMessage } from './mapping.ts';
import type { MqttProfile } from './profile.ts';

/** Device options for `driver: mqtt` in the village config. */
export const MqttDriverOptionsSchema = Type.Object({
  profile: Type.String({
    minLength: 1,
    description: 'profile name in drivers/mqtt/profiles or a path to a .yaml',
  }),
  topic: Type.Optional(
    Type.String({ minLength: 1, description: 'overrides the profile topic (under the device prefix)' }),
  ),
  expectedIntervalMs: Type.Optional(Type.Integer({ minimum: 10 })),
});
export type MqttDriverOptions = Static<typeof MqttDriverOptionsSchema>;

/** In-process subscription to the embedded broker (GatehouseBroker.subscribe fits). */
export type SubscribeFn = (
  filter: string,
  handler: (msg: { topic: string; payload: Buffer }) => void,
) => Promise<() => Promise<void>>;

export interface MqttDriverParams {
  id: string;
  profile: MqttProfile;
  /** `gatehouse/v1/<village>`. */
  prefix: string;
  subscribe: SubscribeFn;
  topic?: string;
  expectedIntervalMs?: number;
  now?: () => number;
}

/**
 * A device that publishes JSON itself. The driver listens on the device's topic inside
 * the broker and keeps the latest mapped fields; read() hands them out, or reports
 * offline(timeout) when the device has been silent for timeoutFactor × its interval.
 */
export class MqttDeviceDriver implements Driver {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly topic: string;
  private latest?: { fields: CanonicalFields; at: number };
  private lastProblem?: { detail: string; at: number };
  private connectedAt = 0;
  private unsubscribe?: () => Promise<void>;
  private readonly now: () => number;
  private readonly silenceMs: number;

  constructor(
    private readonly params: MqttDriverParams,
    private readonly ctx: DriverContext,
  ) {
    this.id = params.id;
    this.kind = params.profile.kind;
    this.topic = `${params.prefix}/${params.id}/${params.topic ?? params.profile.topic}`;
    this.now = params.now ?? Date.now;
    this.silenceMs =
      (params.expectedIntervalMs ?? params.profile.expectedIntervalMs) * params.profile.timeoutFactor;
  }

  async connect(): Promise<void> {
    if (this.unsubscribe) return;
    this.connectedAt = this.now();
    this.unsubscribe = await this.params.subscribe(this.topic, (msg) => this.onMessage(msg.payload));
  }

  async read(): Promise<ReadResult> {
    const now = this.now();
    const lastHeard = Math.max(this.latest?.at ?? 0, this.lastProblem?.at ?? 0);
    if (now - Math.max(lastHeard, this.connectedAt) > this.silenceMs) {
      throw new DeviceError(
        'timeout',
        `nothing on ${this.topic} for ${Math.round((now - (lastHeard || this.connectedAt)) / 1000)} s`,
      );
    }
    const problem =
      this.lastProblem && (!this.latest || this.lastProblem.at >= this.latest.at)
        ? this.lastProblem
        : undefined;
    if (!this.latest) {
      if (problem) throw new DeviceError('bad-response', problem.detail, 'degraded');
      throw new DeviceError('not-polled-yet', `no message on ${this.topic} yet`);
    }
    const fields = this.latest.fields;
    return { fields, ...this.impliedHealth(fields, problem) };
  }

  execute(command: DriverCommand): Promise<unknown> {
    return Promise.reject(
      new DriverError('unsupported', `device ${this.id} (mqtt) takes no commands (${command.action})`),
    );
  }

  health(): Health | undefined {
    return undefined;
  }

  async close(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private onMessage(payload: Buffer): void {
    const at = this.now();
    let doc: unknown;
    try {
      doc = JSON.parse(payload.toString('utf8'));
    } catch {
      this.noteProblem(`not JSON on ${this.topic}: ${payload.subarray(0, 40).toString('utf8')}`, at);
      return;
    }
    const { fields, problems } = mapMessage(this.params.profile, doc);
    if (Object.keys(fields).length === 0) {
      this.noteProblem(`no mappable field on ${this.topic}${problems.length ? `: ${problems[0]}` : ''}`, at);
      return;
    }
    this.latest = { fields, at };
    if (problems.length > 0) this.noteProblem(problems.join('; '), at);
  }

  private noteProblem(detail: string, at: number): void {
    this.lastProblem = { detail, at };
    this.ctx.log.warn({ device: this.id, detail }, 'mqtt device sent a bad message');
  }

  private impliedHealth(fields: CanonicalFields, problem?: { detail: string }): { health?: Health } {
    const fault = (fields as { fault_code?: number }).fault_code;
    if (fault)
      return {
        health: { status: 'degraded', reason: `barrier-fault:${fault}`, since: new Date().toISOString() },
      };
    if (problem)
      return {
        health: {
          status: 'degraded',
          reason: 'bad-response',
          detail: problem.detail,
          since: new Date().toISOString(),
        },
      };
    return {};
  }
}
