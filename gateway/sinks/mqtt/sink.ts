import type { Logger } from 'pino';
import type { BusMessage, HealthMessage, TelemetryMessage } from '../../core/bus.ts';
import type { CommandRecord, CommandRequest, SubmitCommand } from '../../commands/schema.ts';
import { GatehouseError, isGatehouseError } from '../../errors.ts';
import type { MqttIdentity } from '../../broker/acl.ts';
import { retryAfterS, WindowCounter } from '../../limits/window.ts';
import type { GatehouseBroker } from '../../broker/broker.ts';
import { deviceFilter, deviceOf, deviceTopic, TOPICS, type DeviceTopicName } from '../../broker/topics.ts';
import type { Sink, SinkStatus } from '../sink.ts';
import { parseCommand, TransitionFilter, type CommandRejection } from './commands.ts';
import {
  availabilityOf,
  eventPayload,
  mergeState,
  sameState,
  telemetryPayload,
  type DeviceState,
} from './payloads.ts';

/** What the sink needs of the broker: in-process publish and subscribe. */
export type InProcessBroker = Pick<GatehouseBroker, 'prefix' | 'publish' | 'subscribe'>;

export interface MqttSinkOptions {
  broker: InProcessBroker;
  log: Logger;
  /** Where `<device>/cmd` requests go; without it the command intake stays off. */
  submitCommand?: SubmitCommand;
  /** How commands injected by the bridge are checked (the village key, when configured). */
  uplink?: {
    checkCommand(
      topic: string,
      req: CommandRequest,
      signed: { issuedAt?: string; hmac?: string },
    ): {
      verified: boolean;
    };
  };
  /** `broker.limits`: commands per MQTT user within the window. */
  commandLimit?: { commandsPerUser: number; windowS: number };
}

/**
 * Publishes the bus onto the village topics through the embedded broker (no network
 * hop) and takes gate commands from `<device>/cmd`, answering on `<device>/cmd/result`.
 */
export class MqttSink implements Sink {
  readonly name = 'mqtt';
  private state: SinkStatus = 'connecting';
  private readonly states = new Map<string, DeviceState>();
  private readonly availability = new Map<string, string>();
  private readonly transitions = new TransitionFilter();
  private readonly pending = new Set<Promise<void>>();
  private unsubscribe?: () => Promise<void>;
  private readonly perUser?: WindowCounter;
  private readonly counters = {
    mqtt_published: 0,
    mqtt_publish_errors: 0,
    mqtt_commands: 0,
    mqtt_commands_invalid: 0,
  };

  constructor(private readonly opts: MqttSinkOptions) {
    const limit = opts.commandLimit;
    if (limit) this.perUser = new WindowCounter(limit.commandsPerUser, limit.windowS * 1000);
  }

  async start(): Promise<void> {
    if (this.opts.submitCommand) {
      const filter = deviceFilter(this.opts.broker.prefix, 'cmd');
      this.unsubscribe = await this.opts.broker.subscribe(filter, (msg) =>
        this.onCommand(msg.topic, msg.payload, msg.sender),
      );
    }
    this.state = 'connected';
  }

  handle(msg: BusMessage): void {
    if (this.state === 'closed') return;
    switch (msg.type) {
      case 'telemetry':
        this.send('telemetry', msg.device.id, telemetryPayload(msg));
        this.updateState(msg);
        return;
      case 'health': {
        const availability = availabilityOf(msg.health);
        if (this.availability.get(msg.device.id) !== availability) {
          this.availability.set(msg.device.id, availability);
          this.send('availability', msg.device.id, availability);
        }
        this.updateState(msg);
        return;
      }
      case 'event':
        this.send('events', msg.device.id, eventPayload(msg));
        return;
      case 'gateway':
        return; // gateway counters go to InfluxDB and /metrics, not to MQTT
    }
  }

  /** Publish one state of a command record on `<device>/cmd/result` (each state once). */
  publishCommandUpdate(record: CommandRecord): void {
    if (this.transitions.isNew(record)) this.send('cmdResult', record.device, record);
  }

  /**
   * A device removed while running: its retained state and availability are cleared on
   * the broker (an empty retained message), so no client goes on seeing it, and an id
   * added again starts afresh.
   */
  forget(device: string): void {
    this.states.delete(device);
    this.availability.delete(device);
    this.send('state', device, '');
    this.send('availability', device, '');
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    await this.unsubscribe?.();
    await this.flush();
    this.state = 'closed';
  }

  status(): SinkStatus {
    return this.state;
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  private updateState(msg: TelemetryMessage | HealthMessage): void {
    const prev = this.states.get(msg.device.id);
    const next = mergeState(prev, msg);
    if (sameState(prev, next)) return;
    next.time = new Date(msg.time).toISOString();
    this.states.set(msg.device.id, next);
    this.send('state', msg.device.id, next);
  }

  /** Publish on a device's topic with the catalogue's QoS and retain flag. */
  private send(name: Exclude<DeviceTopicName, 'cmd'>, device: string, body: unknown): void {
    const topic = deviceTopic(this.opts.broker.prefix, name, device);
    const { qos, retained } = TOPICS[name];
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const p = this.opts.broker
      .publish(topic, payload, { qos, retain: retained })
      .then(
        () => void this.counters.mqtt_published++,
        (err: unknown) => {
          this.counters.mqtt_publish_errors++;
          this.opts.log.warn({ err, topic }, 'mqtt sink publish failed');
        },
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async onCommand(topic: string, payload: Buffer, sender: MqttIdentity | undefined): Promise<void> {
    const actor = sender?.username ?? 'mqtt';
    const device = deviceOf(this.opts.broker.prefix, 'cmd', topic) ?? ''; // '' for `<prefix>//cmd`
    this.counters.mqtt_commands++;
    const parsed = parseCommand(payload);
    if (!parsed.ok) {
      this.counters.mqtt_commands_invalid++;
      this.opts.log.warn({ device, actor, error: parsed.message }, 'mqtt command rejected');
      const invalid = new GatehouseError('GH_MQTT_COMMAND_INVALID', { detail: parsed.message });
      this.reject(device, parsed.requestId, invalid, parsed.field);
      return;
    }
    try {
      this.limit(actor);
      const { verified } =
        sender?.uplink && this.opts.uplink
          ? this.opts.uplink.checkCommand(topic, parsed.request, parsed.signed)
          : { verified: false };
      const record = await this.opts.submitCommand!(device, parsed.request, actor, { verified });
      this.publishCommandUpdate(record);
    } catch (err) {
      this.opts.log.warn({ device, actor, err }, 'mqtt command refused');
      const refused = isGatehouseError(err)
        ? err
        : new GatehouseError('GH_COMMAND_FAILED', { detail: (err as Error).message }, { cause: err });
      this.reject(device, parsed.request.requestId, refused);
    }
  }

  /** Commands per MQTT user; a refusal goes to `<device>/cmd/result` like any other. */
  private limit(actor: string): void {
    if (!this.perUser) return;
    const ms = this.perUser.blockedFor(actor);
    if (ms > 0) {
      throw new GatehouseError('GH_RATE_LIMITED', {
        what: `commands from MQTT user ${actor}`,
        retryAfterS: retryAfterS(ms),
      });
    }
    this.perUser.hit(actor);
  }

  private reject(device: string, requestId: string | undefined, err: GatehouseError, field?: string): void {
    const body: CommandRejection = {
      ...(requestId ? { requestId } : {}),
      device,
      state: 'failed',
      error: { code: err.code, message: err.message, ...(field ? { field } : {}) },
      time: new Date().toISOString(),
    };
    this.send('cmdResult', device, body);
  }
}
