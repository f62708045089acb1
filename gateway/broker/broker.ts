import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import { mayPublish, maySubscribe, type MqttIdentity } from './acl.ts';
import { authenticateUser, CONNACK, ConnectRefused, peerAddress, stillHolds } from './auth.ts';
import { BrokerConfigSchema, topicPrefix, type BrokerConfig, type BrokerUser } from './config.ts';
import { LoginGuard } from './guard.ts';
import { TlsListeners, verifiedCertName } from './tls-listeners.ts';
import { createPersistence, type BrokerPersistence } from './persistence.ts';
import { topicMatches } from './topics.ts';
import { attachMqttWebSocket } from './websocket.ts';

export interface GatehouseBrokerOptions {
  village: string;
  config: Partial<BrokerConfig>;
  /** Persistence lives in `<dataDir>/broker`; without it, in memory (lost on restart). */
  dataDir?: string;
  /** Where relative TLS file paths start (the config file's folder); default the working directory. */
  baseDir?: string;
  log: Logger;
}

export interface InProcessMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** Who published it, when it came from a connected client. */
  sender?: MqttIdentity;
}

export type MessageHandler = (msg: InProcessMessage) => void | Promise<void>;

/** How long a disconnected client's identity is kept, so its last messages still name their sender. */
const IDENTITY_LINGER_MS = 30_000;

/**
 * The embedded MQTT broker: aedes with users, roles and topic ACLs, disk persistence,
 * TCP and WebSocket listeners, and the gateway's own retained `gateway/status`.
 */
export class GatehouseBroker {
  readonly prefix: string;
  readonly statusTopic: string;
  private readonly identities = new Map<string, MqttIdentity>();
  /** The user entry each connected client signed in as, so a reload can tell who must go. */
  private readonly signedInAs = new Map<Client, BrokerUser>();
  private users: readonly BrokerUser[];
  private readonly guard: LoginGuard;
  private readonly tlsListeners?: TlsListeners;
  private readonly refusedIds = new WeakSet<Client>();
  private tcp?: Server;
  private wsServer?: HttpServer;
  private readonly detachers: (() => Promise<void>)[] = [];
  private closed = false;
  /** For /metrics: PUBLISH packets from clients, deliveries to clients, refused logins. */
  private readonly counts = { messages_in: 0, messages_out: 0, auth_failures: 0 };

  private readonly config: BrokerConfig;

  private constructor(
    readonly aedes: Aedes,
    private readonly store: BrokerPersistence,
    config: Partial<BrokerConfig>,
    private readonly log: Logger,
    village: string,
    baseDir: string,
  ) {
    this.prefix = topicPrefix(village);
    this.statusTopic = `${this.prefix}/gateway/status`;
    // In-process callers (tests, the broker process) may pass a partial section: the schema fills it.
    this.config = Value.Default(BrokerConfigSchema, Value.Clone(config)) as BrokerConfig;
    this.users = this.config.users;
    this.guard = new LoginGuard(this.config.limits, log);
    if (this.config.tls) this.tlsListeners = new TlsListeners(this.config.tls, baseDir, log);
  }

  static async create(opts: GatehouseBrokerOptions): Promise<GatehouseBroker> {
    const log = opts.log.child({ module: 'broker' });
    const store = await createPersistence(
      opts.dataDir ? path.join(opts.dataDir, 'broker') : undefined,
      (err) =>
        log.error({ err }, `retained messages could not be written to the broker's store: ${err.message}`),
    );
    const holder: { broker?: GatehouseBroker } = {};
    const aedes = await Aedes.createBroker({
      // Queued QoS 1/2 messages are stored under <brokerId>:<counter>, and the counter
      // starts again at each start: an id that sorts by start time keeps a session's
      // queue in publish order across restarts (aedes' default id is a random UUID).
      id: `gh-${Date.now().toString(36).padStart(10, '0')}-${randomUUID().slice(0, 8)}`,
      persistence: store.persistence,
      preConnect: (client, packet, done) => {
        // [MQTT-3.1.3-8]: a zero-length client id needs CleanSession=1, else CONNACK 0x02.
        if (packet.clientId === '' && !packet.clean) holder.broker!.refusedIds.add(client);
        preferHigherQosCopy(client);
        done(null, true);
      },
      authenticate: (client, username, password, done) => {
        void holder.broker!.authenticate(client, username, password).then(
          () => done(null, true),
          (err: ConnectRefused) => done(Object.assign(err, { returnCode: err.returnCode }), false),
        );
      },
      authorizePublish: (client, packet, done) => holder.broker!.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => {
        const ok = holder.broker!.authorizeSubscribe(client, sub.topic);
        done(null, ok ? sub : null);
      },
      authorizeForward: (client, packet) => {
        holder.broker!.counts.messages_out++;
        return downgradeToGrantedQos(client, packet);
      },
    });
    const broker = new GatehouseBroker(
      aedes,
      store,
      opts.config,
      log,
      opts.village,
      opts.baseDir ?? process.cwd(),
    );
    holder.broker = broker;
    aedes.on('publish', (_packet, client) => {
      if (client) broker.counts.messages_in++;
    });
    aedes.on('connackSent', (packet) => {
      const rc = packet.returnCode;
      if (rc === CONNACK.BAD_USERNAME_OR_PASSWORD || rc === CONNACK.NOT_AUTHORIZED)
        broker.counts.auth_failures++;
    });
    aedes.on('clientDisconnect', (client) => {
      broker.signedInAs.delete(client);
      broker.forgetLater(client.id);
    });
    aedes.on('clientError', (client, err) =>
      log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'),
    );
    await broker.publish(broker.statusTopic, 'online', { qos: 1, retain: true });
    return broker;
  }

  /**
   * Listen on TCP (config host/port), with `wsPort` a standalone WebSocket port, and with
   * `tls` MQTT over TLS (and secure WebSocket) beside them.
   */
  async listen(): Promise<{ port: number; wsPort?: number; tlsPort?: number; wssPort?: number }> {
    const host = this.config.host;
    this.tcp = createServer((socket) => this.aedes.handle(socket));
    const port = await listenOn(this.tcp, this.config.port, host);
    this.log.info({ host, port }, 'mqtt broker listening');
    const secure = this.tlsListeners
      ? await this.tlsListeners.listen(this.aedes, host, (server) => this.attachWebSocket(server))
      : {};
    if (this.config.wsPort === undefined) return { port, ...secure };
    this.wsServer = createHttpServer((_req, res) => res.writeHead(426).end('MQTT over WebSocket only\n'));
    this.attachWebSocket(this.wsServer, this.config.wsPath);
    const wsPort = await listenOn(this.wsServer, this.config.wsPort, host);
    this.log.info({ host, wsPort, path: this.config.wsPath }, 'mqtt websocket listening');
    return { port, wsPort, ...secure };
  }

  /** Renewed certificate files, used from the next handshake on; connected clients stay. */
  reloadTls(): { subject: string; serial: string; validTo: string } | undefined {
    return this.tlsListeners?.reload();
  }

  get tlsPort(): number | undefined {
    return this.tlsListeners?.port;
  }

  /**
   * New users (a reload of the config): from now on logins are checked against them,
   * and every connected client whose user was removed or changed is disconnected.
   */
  setUsers(users: readonly BrokerUser[]): { disconnected: string[] } {
    this.users = users;
    const disconnected: string[] = [];
    for (const [client, was] of this.signedInAs) {
      if (stillHolds(was, users)) continue;
      this.signedInAs.delete(client);
      this.identities.delete(client.id);
      disconnected.push(was.username);
      this.log.warn(
        { clientId: client.id, username: was.username },
        'mqtt client disconnected: its user was removed or changed',
      );
      client.close();
    }
    return { disconnected };
  }

  /** Counters of the login guard, for /metrics. */
  loginStats(): Record<string, number> {
    return { ...this.guard.counts };
  }

  /** Serve MQTT over WebSocket at `wsPath` on an existing HTTP server (the API's). */
  attachWebSocket(server: HttpServer, wsPath = this.config.wsPath): void {
    this.detachers.push(attachMqttWebSocket(this.aedes, server, wsPath));
  }

  /**
   * Publish in-process, no network hop; passes no ACL (the gateway is trusted). `as`
   * names the sender that in-process subscribers see (the bridge injecting a command).
   */
  publish(
    topic: string,
    payload: string | Buffer,
    opts: { qos?: 0 | 1 | 2; retain?: boolean; as?: MqttIdentity } = {},
  ): Promise<void> {
    const packet = {
      cmd: 'publish' as const,
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      qos: opts.qos ?? 0,
      retain: opts.retain ?? false,
      dup: false,
    };
    if (opts.as) {
      const clientId = `$in-process:${opts.as.username}`;
      this.identities.set(clientId, opts.as);
      Object.assign(packet, { clientId });
    }
    return new Promise((resolve, reject) =>
      this.aedes.publish(packet, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Subscribe in-process (drivers, the command intake). Resolves with an unsubscribe function. */
  async subscribe(filter: string, handler: MessageHandler): Promise<() => Promise<void>> {
    const deliver = (packet: AedesPublishPacket, cb: () => void) => {
      const clientId = (packet as { clientId?: string }).clientId;
      const sender = clientId ? this.identities.get(clientId) : undefined;
      const msg: InProcessMessage = {
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        qos: packet.qos,
        retain: packet.retain,
        ...(sender ? { sender } : {}),
      };
      Promise.resolve()
        .then(() => handler(msg))
        .catch((err: unknown) =>
          this.log.error({ err, topic: packet.topic }, 'in-process mqtt handler failed'),
        )
        .finally(cb);
    };
    await new Promise<void>((resolve) => this.aedes.subscribe(filter, deliver, resolve));
    return () => new Promise<void>((resolve) => this.aedes.unsubscribe(filter, deliver, resolve));
  }

  get port(): number | undefined {
    return (this.tcp?.address() as AddressInfo | null)?.port;
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  stats(): Record<string, number> {
    return { clients: this.aedes.connectedClients, ...this.counts };
  }

  /** Clean shutdown: retained `offline` on gateway/status, then close listeners, clients and the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.publish(this.statusTopic, 'offline', { qos: 1, retain: true }).catch(() => {});
    await Promise.all(this.detachers.map((d) => d()));
    await Promise.all([closeServer(this.tcp), closeServer(this.wsServer), this.tlsListeners?.close()]);
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await this.store.close();
  }

  private async authenticate(client: Client, username?: string, password?: Buffer): Promise<void> {
    if (this.refusedIds.has(client)) {
      this.log.warn({ username }, 'mqtt connect refused: empty client id needs CleanSession=1');
      throw new ConnectRefused(CONNACK.IDENTIFIER_REJECTED, 'identifier rejected');
    }
    const peer = peerAddress(client);
    this.guard.check(peer, client.id);
    const certName =
      this.config.tls && this.config.tls.clientCerts !== 'off' ? verifiedCertName(client) : undefined;
    let signedIn: Awaited<ReturnType<typeof authenticateUser>>;
    try {
      signedIn = await authenticateUser(
        this.users,
        this.config.allowAnonymousLoopback,
        client,
        { username, password, ...(certName ? { certName } : {}) },
        this.log,
      );
    } catch (err) {
      await this.guard.failed(peer);
      throw err;
    }
    this.identities.set(client.id, signedIn.identity);
    if (signedIn.user) this.signedInAs.set(client, signedIn.user);
  }

  private authorizePublish(
    client: Client | null,
    packet: { topic: string },
    done: (err?: Error | null) => void,
  ) {
    if (client === null) return done(null); // the gateway's own publish or a stored will
    const id = this.identities.get(client.id);
    if (id && mayPublish(id, this.prefix, packet.topic)) return done(null);
    this.log.warn(
      { clientId: client.id, username: id?.username, topic: packet.topic },
      'mqtt publish denied',
    );
    done(new Error(`publish to ${packet.topic} denied`));
  }

  private authorizeSubscribe(client: Client, filter: string): boolean {
    const id = this.identities.get(client.id);
    if (id && maySubscribe(id, this.prefix, filter)) return true;
    this.log.warn({ clientId: client.id, username: id?.username, topic: filter }, 'mqtt subscribe denied');
    return false;
  }

  private forgetLater(clientId: string): void {
    const id = this.identities.get(clientId);
    setTimeout(() => {
      if (this.identities.get(clientId) === id) this.identities.delete(clientId);
    }, IDENTITY_LINGER_MS).unref();
  }
}

/**
 * [MQTT-3.8.4-6] a message is sent at most at the QoS granted to the matching
 * subscription. aedes looks the grant up by topic name, which misses wildcard
 * subscriptions (and retained messages sent on SUBSCRIBE); this takes the highest
 * grant among the client's filters that match.
 */
function downgradeToGrantedQos(client: Client, packet: AedesPublishPacket): AedesPublishPacket {
  if (packet.qos === 0) return packet;
  const subs = (client as unknown as { subscriptions: Record<string, { qos: number }> }).subscriptions;
  let granted = -1;
  for (const filter in subs) {
    if (topicMatches(filter, packet.topic)) granted = Math.max(granted, subs[filter]!.qos);
  }
  if (granted < 0 || granted >= packet.qos) return packet;
  return Object.assign(Object.create(Object.getPrototypeOf(packet) as object) as AedesPublishPacket, packet, {
    qos: granted,
  });
}

type Deliver = (packet: AedesPublishPacket, cb: () => void) => void;

/**
 * [MQTT-3.3.5-1] with overlapping subscriptions a message goes out at the highest QoS
 * among them. aedes sends one copy per message and the first matching subscription
 * wins, which can be the QoS 0 one; so the QoS 0 path steps aside when the message
 * has QoS > 0 and another of the client's subscriptions granted QoS > 0 matches it.
 * Installed before CONNECT is processed, so restored sessions get it too.
 */
function preferHigherQosCopy(client: Client): void {
  const c = client as unknown as { deliver0: Deliver; subscriptions: Record<string, { qos: number }> };
  const deliver0 = c.deliver0;
  c.deliver0 = (packet, cb) => {
    if (packet.qos > 0) {
      for (const filter in c.subscriptions) {
        if (c.subscriptions[filter]!.qos > 0 && topicMatches(filter, packet.topic)) return setImmediate(cb);
      }
    }
    deliver0(packet, cb);
  };
}

function listenOn(server: Server | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server | HttpServer | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
