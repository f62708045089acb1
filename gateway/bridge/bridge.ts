import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import type { GatehouseBroker } from '../broker/broker.ts';
import type { MqttIdentity } from '../broker/acl.ts';
import { gatewayStatusTopic, TOPICS } from '../broker/topics.ts';
import type { CommandRequest } from '../commands/schema.ts';
import { loadClientTls } from '../tls/files.ts';
import { BridgeConfigSchema, type BridgeConfig } from './config.ts';
import { DiskQueue, type QueueEntry } from './queue.ts';
import { verifyCommand, type Signed } from './signature.ts';

export type BridgeBroker = Pick<GatehouseBroker, 'prefix' | 'publish' | 'subscribe'>;

export interface BridgeOptions {
  /** The section as the schema fills it; the uplink-signing fields may be left out (the schema's defaults). */
  config: Omit<BridgeConfig, 'commandMaxAgeS'> & Partial<Pick<BridgeConfig, 'commandMaxAgeS'>>;
  broker: BridgeBroker;
  log: Logger;
  /** The queue lives in `config.queueDir`, else `<dataDir>/bridge`. */
  dataDir: string;
  /** Where relative TLS file paths start (the config file's folder); default the working directory. */
  baseDir?: string;
}

const SAVE_EVERY_MS = 200;
const STATUS = { qos: TOPICS.gatewayStatus.qos, retain: TOPICS.gatewayStatus.retained };

/**
 * Store-and-forward to the central broker. Local messages on the `forward` filters go
 * to an append-only disk queue first, then upstream at QoS 1 in queue order with at
 * most `maxInflight` unacknowledged. Delivery is at least once and in order: after a
 * reconnect the unacknowledged tail is sent again before anything newer. Messages on
 * the central `subscribe` filters (commands) are injected into the local broker.
 */
export class Bridge {
  private readonly queue: DiskQueue;
  private client?: MqttClient;
  /** Byte offset of the next queued message to send. */
  private readPos: number;
  /** Ends of messages sent and not yet acknowledged, in send order, with their ack state. */
  private readonly inflight: { end: number; acked: boolean }[] = [];
  private readonly unsubscribes: (() => Promise<void>)[] = [];
  private readonly identity: MqttIdentity;
  /** The gateway's `gateway/status`, upstream: `online` once connected, `offline` as the last will. */
  private readonly statusTopic: string;
  private saveTimer?: NodeJS.Timeout;
  private closed = false;
  private readonly counters = { bridge_queued: 0, bridge_dropped: 0, bridge_acked: 0, bridge_injected: 0 };

  constructor(private readonly opts: BridgeOptions) {
    const dir = opts.config.queueDir ?? path.join(opts.dataDir, 'bridge');
    this.queue = new DiskQueue(dir, opts.config.maxQueueBytes ?? 256 * 1024 * 1024);
    this.readPos = this.queue.start;
    this.identity = { username: `bridge:${opts.config.clientId}`, role: 'platform', uplink: true };
    this.statusTopic = gatewayStatusTopic(opts.broker.prefix);
  }

  async start(): Promise<void> {
    for (const filter of this.opts.config.forward) {
      this.unsubscribes.push(
        await this.opts.broker.subscribe(filter, (msg) => {
          if (msg.sender === this.identity) return; // a command we injected: never echo it upstream
          if (this.queue.append(msg)) this.counters.bridge_queued++;
          else {
            this.counters.bridge_dropped++;
            this.opts.log.warn({ topic: msg.topic }, 'bridge queue full: message dropped');
          }
          this.pump();
        }),
      );
    }
    this.saveTimer = setInterval(() => this.save(), SAVE_EVERY_MS);
    this.connect();
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  status(): 'connected' | 'spooling' | 'closed' {
    if (this.closed) return 'closed';
    return this.connected ? 'connected' : 'spooling';
  }

  stats(): Record<string, number> {
    return {
      ...this.counters,
      bridge_inflight: this.inflight.length,
      bridge_queue_bytes: this.queue.pendingBytes,
      bridge_connected: this.connected ? 1 : 0,
    };
  }

  /** Resolves once everything queued so far was acknowledged upstream, or after `timeoutMs`. */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.pendingBytes > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.queue.pendingBytes === 0;
  }

  /**
   * How a command that came through the uplink may be trusted: `verified` when the
   * village has a commandKey and the HMAC fits (throws GH_COMMAND_SIGNATURE when it does
   * not), else only as the town platform states it.
   */
  checkCommand(topic: string, req: CommandRequest, signed: Signed): { verified: boolean } {
    const { commandKey } = this.opts.config;
    if (commandKey === undefined) return { verified: false };
    const { commandMaxAgeS } = Value.Default(
      BridgeConfigSchema,
      Value.Clone(this.opts.config),
    ) as BridgeConfig;
    verifyCommand(commandKey, commandMaxAgeS, topic, req, signed);
    return { verified: true };
  }

  /** Renewed client certificate or CA files, used from the next (re)connect on. */
  reloadTls(): void {
    if (!this.opts.config.tls || !this.client) return;
    Object.assign(this.client.options, this.tlsOptions());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.saveTimer);
    await Promise.all(this.unsubscribes.map((u) => u()));
    const client = this.client;
    if (client) {
      if (client.connected) await client.publishAsync(this.statusTopic, 'offline', STATUS).catch(() => {});
      await client.endAsync(true);
    }
    this.queue.close();
  }

  private connect(): void {
    const c = this.opts.config;
    const client = mqtt.connect(c.url, {
      ...this.tlsOptions(),
      clientId: c.clientId,
      ...(c.username ? { username: c.username } : {}),
      ...(c.password !== undefined ? { password: c.password } : {}),
      clean: false,
      keepalive: c.keepaliveSeconds ?? 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      protocolVersion: 4,
      will: { topic: this.statusTopic, payload: Buffer.from('offline'), ...STATUS },
    });
    this.client = client;
    client.on('connect', (connack) => {
      this.opts.log.info(
        { url: withoutUserinfo(c.url), sessionPresent: connack.sessionPresent },
        'bridge connected',
      );
      client.publish(this.statusTopic, 'online', STATUS);
      if (c.subscribe.length > 0) {
        client.subscribe(c.subscribe, { qos: 1 }, (err) => {
          if (err) this.opts.log.error({ err }, 'bridge subscribe failed');
        });
      }
      this.pump();
    });
    client.on('message', (topic, payload, packet) => this.inject(topic, payload, packet.qos));
    client.on('close', () => this.opts.log.debug('bridge uplink closed'));
    client.on('error', (err) => this.opts.log.warn({ err: err.message }, 'bridge uplink error'));
  }

  private tlsOptions() {
    return loadClientTls('bridge.tls', this.opts.config.tls, this.opts.baseDir ?? process.cwd());
  }

  private inject(topic: string, payload: Buffer, qos: 0 | 1 | 2): void {
    if (!topic.startsWith(this.opts.broker.prefix + '/')) {
      this.opts.log.warn({ topic }, 'bridge: message outside the village prefix ignored');
      return;
    }
    this.counters.bridge_injected++;
    void this.opts.broker.publish(topic, payload, { qos, as: this.identity }).catch((err: unknown) => {
      this.opts.log.error({ err, topic }, 'bridge: local inject failed');
    });
  }

  /** Send queued messages while the window has room; mqtt.js resends its unacknowledged ones itself on reconnect. */
  private pump(): void {
    const client = this.client;
    if (!client?.connected || this.closed) return;
    const room = (this.opts.config.maxInflight ?? 16) - this.inflight.length;
    if (room <= 0 || this.readPos >= this.queue.end) return;
    for (const entry of this.queue.read(this.readPos, room)) this.send(client, entry);
  }

  private send(client: MqttClient, entry: QueueEntry): void {
    this.readPos = entry.end;
    const slot = { end: entry.end, acked: false };
    this.inflight.push(slot);
    client.publish(entry.topic, entry.payload, { qos: this.opts.config.qos, retain: entry.retain }, (err) => {
      if (err) {
        // mqtt.js gave up on it (client ended): start again from the last acknowledged message.
        this.opts.log.warn({ err: err.message, topic: entry.topic }, 'bridge publish failed');
        this.inflight.length = 0;
        this.readPos = this.queue.start;
        return;
      }
      slot.acked = true;
      this.counters.bridge_acked++;
      while (this.inflight[0]?.acked) this.queue.commit(this.inflight.shift()!.end);
      this.pump();
    });
  }

  private save(): void {
    this.queue.save();
    if (this.readPos > this.queue.end) this.readPos = this.queue.start; // the log was truncated
  }
}

/** A URL as the log may show it: a password written into it stays out. */
function withoutUserinfo(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable url)';
  }
}
