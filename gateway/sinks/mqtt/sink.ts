import type { Logger } from 'pino';
import type { BusMessage, HealthMessage, TelemetryMessage } from '../../core/bus.ts';
import type { CommandRecord, SubmitCommand } from '../../commands/schema.ts';
import { isGatehouseError } from '../../errors.ts';
import type { GatehouseBroker } from '../../broker/broker.ts';
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
  private readonly counters = {
    mqtt_published: 0,
    mqtt_publish_errors: 0,
    mqtt_commands: 0,
    mqtt_commands_invalid: 0,
  };

  constructor(private readonly opts: MqttSinkOptions) {}

  async start(): Promise<void> {
    if (this.opts.submitCommand) {
      this.unsubscribe = await this.opts.broker.subscribe(`${this.opts.broker.prefix}/+/cmd`, (msg) =>
        this.onCommand(msg.topic, msg.payload, msg.sender?.username ?? 'mqtt'),
      );
    }
    this.state = 'connected';
  }

  handle(msg: BusMessage): void {
    if (this.state === 'closed') return;
    switch (msg.type) {
      case 'telemetry':
        this.send(this.topic(msg.device.id, 'telemetry'), telemetryPayload(msg));
        this.updateState(msg);
        return;
      case 'health': {
        const availability = availabilityOf(msg.health);
        if (this.availability.get(msg.device.id) !== availability) {
          this.availability.set(msg.device.id, availability);
          this.send(this.topic(msg.device.id, 'availability'), availability, true);
        }
        this.updateState(msg);
        return;
      }
      case 'event':
        this.send(this.topic(msg.device.id, 'events'), eventPayload(msg));
        return;
      case 'gateway':
        return; // gateway counters go to InfluxDB and /metrics, not to MQTT
    }
  }

  /** Publish one state of a command record on `<device>/cmd/result` (each state once). */
  publishCommandUpdate(record: CommandRecord): void {
    if (this.transitions.isNew(record)) this.send(this.topic(record.device, 'cmd/result'), record);
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

  private topic(device: string, leaf: string): string {
    return `${this.opts.broker.prefix}/${device}/${leaf}`;
  }

  private updateState(msg: TelemetryMessage | HealthMessage): void {
    const prev = this.states.get(msg.device.id);
    const next = mergeState(prev, msg);
    if (sameState(prev, next)) return;
    next.time = new Date(msg.time).toISOString();
    this.states.set(msg.device.id, next);
    this.send(this.topic(msg.device.id, 'state'), next, true);
  }

  private send(topic: string, body: unknown, retain = false): void {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const p = this.opts.broker
      .publish(topic, payload, { qos: retain || topic.endsWith('/cmd/result') ? 1 : 0, retain })
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

  private async onCommand(topic: string, payload: Buffer, actor: string): Promise<void> {
    const device = topic.slice(this.opts.broker.prefix.length + 1, -'/cmd'.length);
    this.counters.mqtt_commands++;
    const parsed = parseCommand(payload);
    if (!parsed.ok) {
      this.counters.mqtt_commands_invalid++;
      this.opts.log.warn({ device, actor, error: parsed.message }, 'mqtt command rejected');
      this.reject(device, parsed.requestId, {
        code: 'GH_MQTT_COMMAND_INVALID',
        message: parsed.message,
        ...(parsed.field ? { field: parsed.field } : {}),
      });
      return;
    }
    try {
      const record = await this.opts.submitCommand!(device, parsed.request, actor);
      this.publishCommandUpdate(record);
    } catch (err) {
      const code = isGatehouseError(err) ? err.code : 'GH_COMMAND_FAILED';
      this.opts.log.warn({ device, actor, err }, 'mqtt command refused');
      this.reject(device, parsed.request.requestId, { code, message: (err as Error).message });
    }
  }

  private reject(device: string, requestId: string | undefined, error: CommandRejection['error']): void {
    const body: CommandRejection = {
      ...(requestId ? { requestId } : {}),
      device,
      state: 'failed',
      error,
      time: new Date().toISOString(),
    };
    this.send(this.topic(device, 'cmd/result'), body);
  }
}
