import { EventEmitter } from 'node:events';
import path from 'node:path';
import type Influx from 'influx';
import type { BusMessage } from '../../core/bus.ts';
import { createLogger, type Logger } from '../../logger.ts';
import type { Sink, SinkStatus } from '../sink.ts';
import type { InfluxSinkConfig } from './config.ts';
import { HttpLineWriter } from './http-writer.ts';
import { fieldSet } from './line-protocol.ts';
import { LineBuffer } from './line-buffer.ts';
import { fieldsOf, INTEGER_FIELDS, measurementOf } from './points.ts';
import { SeriesKeyCache } from './series-cache.ts';
import { ensureSchema, influxClient, RAW_RP, schemaRefused } from './schema.ts';
import { Spool, type SpoolRecord } from './spool.ts';

export interface InfluxSinkOptions {
  /** A resolved config (defaults filled: see resolveInfluxSinkConfig). */
  config: InfluxSinkConfig;
  village: string;
  /**
   * Which InfluxDB this is, when the gateway writes to several (its own and the town's):
   * the sink's name in /metrics and readiness, and its spool's folder. Default `influx`.
   */
  name?: string;
  /** The spool lives in `<dataDir>/spool/<name>`: each target keeps its own. */
  dataDir: string;
  logger?: Logger;
  /** Per HTTP request to InfluxDB; a write slower than this counts as a failure and is spooled. */
  requestTimeoutMs?: number;
  /** Longest wait between reconnection attempts (backoff doubles from 250 ms). */
  maxBackoffMs?: number;
}

interface Batch {
  body: Buffer;
  points: number;
}

const MIN_BACKOFF_MS = 250;

/**
 * Batches canonical points to InfluxDB 1.x; when InfluxDB is slow or down, batches go to
 * a durable disk spool and are replayed, oldest first, once it answers again.
 *
 * Flow: handle() serializes each message to one line at once and appends it to the open
 * batch; a batch is sealed at `batchSize` points or every `flushIntervalMs`. Sealed
 * batches wait in memory (at most `maxQueuePoints`; beyond it the oldest go to the
 * spool) for the single writer loop, which always drains the spool before memory, so
 * the spool only ever holds data older than what is in memory. A write that fails for
 * a reason that can pass (network, 5xx, timeout, auth, missing database) sends the
 * batch and everything queued behind it to the spool and retries with backoff; a batch
 * InfluxDB refuses as malformed (400) is logged and counted in points_dropped.
 */
export class InfluxSink implements Sink {
  readonly name: string;
  private readonly cfg: InfluxSinkConfig;
  private readonly log: Logger;
  private readonly village: string;
  private readonly spoolDir: string;
  private readonly timeoutMs: number;
  private readonly maxBackoffMs: number;
  private spool: Spool | undefined;
  private writer: HttpLineWriter | undefined;
  private client: Influx.InfluxDB | undefined;

  private readonly open: LineBuffer;
  private queue: Batch[] = [];
  private queuedPoints = 0;
  private inFlight: Batch | undefined;
  private readonly spoolWrites = new Set<Promise<void>>();
  private readonly keys: SeriesKeyCache;

  private connected = false;
  private everConnected = false;
  private schemaReady = false;
  private backoffMs = MIN_BACKOFF_MS;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private stopping = false;
  private closed = false;
  private readonly progress = new EventEmitter();

  private readonly counts = {
    points_written: 0,
    points_rejected: 0,
    points_lost: 0,
    points_spooled: 0,
    write_errors: 0,
    replayed: 0,
  };

  constructor(opts: InfluxSinkOptions) {
    this.cfg = opts.config;
    this.village = opts.village;
    this.name = opts.name ?? 'influx';
    this.spoolDir = path.join(opts.dataDir, 'spool', this.name);
    this.log = (opts.logger ?? createLogger()).child({ sink: this.name });
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.keys = new SeriesKeyCache(opts.village);
    // ~250 bytes per canonical point; the buffer grows if a batch needs more.
    this.open = new LineBuffer(Math.min(this.cfg.batchSize * 256, 8 << 20));
  }

  async start(): Promise<void> {
    const { spool, url, database, username, password } = this.cfg;
    this.spool = await Spool.open({ dir: this.spoolDir, ...spool, logger: this.log });
    if (url) {
      this.writer = new HttpLineWriter({
        url,
        database,
        retentionPolicy: RAW_RP,
        username,
        password,
        timeoutMs: this.timeoutMs,
      });
      this.client = influxClient({ url, database, username, password, timeoutMs: this.timeoutMs });
      await this.prepareSchema();
    } else {
      this.log.info({ dir: this.spoolDir }, 'influx sink: no url configured, spooling to disk only');
    }
    this.flushTimer = setInterval(() => {
      this.seal();
      this.kick();
    }, this.cfg.flushIntervalMs);
    this.flushTimer.unref();
    this.kick();
  }

  handle(msg: BusMessage): void {
    if (this.closed) {
      this.counts.points_lost++;
      return;
    }
    // toPoint + serializePoint, inlined: the series key comes from a cache, so the tag
    // object is built only the first time a device is seen.
    const measurement = measurementOf(msg);
    const fields = fieldSet(fieldsOf(msg), INTEGER_FIELDS[measurement]);
    if (fields === '') return;
    this.open.append(`${this.keys.get(msg, measurement)} ${fields} ${Math.trunc(msg.time)}\n`);
    if (this.open.points >= this.cfg.batchSize) this.seal();
  }

  async flush(): Promise<void> {
    if (!this.spool) return;
    this.seal();
    // Memory would queue behind the spool anyway: put it there now so flush is quick.
    if (!this.spool.isEmpty || !this.connected) this.spoolQueue();
    this.kick();
    while (this.queue.length > 0 || this.inFlight || this.spoolWrites.size > 0) {
      await this.nextStep(50);
    }
    await this.spool.sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.flush();
    this.closed = true;
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.pumping;
    await Promise.all(this.spoolWrites);
    await this.spool?.close();
    this.writer?.close();
  }

  status(): SinkStatus {
    if (this.closed) return 'closed';
    if (this.connected) return 'connected';
    if (this.writer && !this.everConnected && (this.spool?.isEmpty ?? true)) return 'connecting';
    return 'spooling';
  }

  stats(): Record<string, number> {
    const spoolDropped = this.spool?.pointsDropped ?? 0;
    return {
      ...this.counts,
      points_dropped: this.counts.points_rejected + this.counts.points_lost + spoolDropped,
      spool_bytes: this.spool?.bytes ?? 0,
      spool_points: this.spool?.pendingPoints ?? 0,
      queue_depth: this.open.points + this.queuedPoints + (this.inFlight?.points ?? 0),
    };
  }

  /** Resolves at the writer's next step, or after `ms` at the latest. */
  private nextStep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.progress.off('step', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.progress.once('step', done);
    });
  }

  private seal(): void {
    const batch = this.open.take();
    if (!batch) return;
    this.queue.push(batch);
    this.queuedPoints += batch.points;
    // Backpressure: memory is bounded; the overflow goes to disk, never to the floor.
    // (Before start() there is no spool yet: the queue waits for it.)
    while (this.spool && this.queuedPoints > this.cfg.maxQueuePoints && this.queue.length > 0) {
      this.toSpool(this.shiftQueue()!);
    }
    this.kick();
  }

  private shiftQueue(): Batch | undefined {
    const b = this.queue.shift();
    if (b) this.queuedPoints -= b.points;
    return b;
  }

  private spoolQueue(): void {
    for (let b = this.shiftQueue(); b; b = this.shiftQueue()) this.toSpool(b);
  }

  private toSpool(batch: Batch): void {
    const w = this.spool!.append(batch.body, batch.points).then(
      () => {
        this.counts.points_spooled += batch.points;
      },
      (err: unknown) => {
        this.counts.points_lost += batch.points;
        this.log.error(
          { code: 'GH_SPOOL_WRITE', err, points: batch.points },
          'influx sink: could not spool a batch; its points are lost',
        );
      },
    );
    this.spoolWrites.add(w);
    void w.finally(() => {
      this.spoolWrites.delete(w);
      this.progress.emit('step');
    });
  }

  private kick(): void {
    if (this.pumping || this.stopping || !this.spool) return;
    this.pumping = this.pump()
      .catch((err: unknown) => this.log.error({ err }, 'influx sink: writer loop failed'))
      .finally(() => {
        this.pumping = undefined;
        this.progress.emit('step');
      });
  }

  /** The single writer: spool first (oldest data), then memory, one batch at a time. */
  private async pump(): Promise<void> {
    const spool = this.spool!;
    while (!this.stopping) {
      if (!this.writer) return this.spoolQueue();
      if (!this.connected && Date.now() < this.retryAt) {
        this.spoolQueue();
        return this.scheduleRetry();
      }
      if (!this.schemaReady && !(await this.prepareSchema())) continue;
      let rec: SpoolRecord | undefined;
      if (!spool.isEmpty) rec = await spool.peek();
      const batch = rec ? undefined : this.shiftQueue();
      if (!rec && !batch) return;
      this.inFlight = batch;
      const body = rec ? rec.body : batch!.body;
      const points = rec ? rec.points : batch!.points;
      const out = await this.writer.write(body);
      if (out.ok) {
        this.counts.points_written += points;
        if (rec) this.counts.replayed += points;
        this.markConnected();
      } else if (!out.retry) {
        const dropped = Math.min(out.dropped ?? points, points);
        this.counts.write_errors++;
        this.counts.points_rejected += dropped;
        this.counts.points_written += points - dropped;
        this.log.error(
          {
            code: 'GH_INFLUX_REJECTED',
            status: out.status,
            error: out.error,
            points,
            dropped,
            replay: Boolean(rec),
          },
          'influx sink: InfluxDB refused points as malformed or conflicting; they are dropped',
        );
      } else {
        this.counts.write_errors++;
        if (out.databaseMissing) this.schemaReady = false;
        if (batch) this.toSpool(batch);
        this.inFlight = undefined;
        this.markDown(out.error);
        continue;
      }
      if (rec) await spool.ack(rec);
      this.inFlight = undefined;
      this.progress.emit('step');
    }
  }

  private async prepareSchema(): Promise<boolean> {
    try {
      await ensureSchema(this.client!, this.cfg.database, this.log);
      this.schemaReady = true;
      this.markConnected();
      return true;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (schemaRefused(err)) {
        this.log.warn(
          { code: 'GH_INFLUX_SCHEMA', database: this.cfg.database, error },
          'influx sink: InfluxDB refused the schema statements; writing to the database as it is',
        );
        this.schemaReady = true;
        return true;
      }
      this.counts.write_errors++;
      this.markDown(error);
      return false;
    }
  }

  private markConnected(): void {
    this.backoffMs = MIN_BACKOFF_MS;
    if (this.connected) return;
    this.connected = true;
    this.everConnected = true;
    this.log.info(
      { url: this.cfg.url, spooledPoints: this.spool?.pendingPoints ?? 0 },
      'influx sink: connected',
    );
  }

  private markDown(error: string): void {
    if (this.connected || this.backoffMs === MIN_BACKOFF_MS) {
      this.log.warn(
        { code: 'GH_INFLUX_UNAVAILABLE', url: this.cfg.url, error },
        'influx sink: InfluxDB unavailable; spooling to disk',
      );
    }
    this.connected = false;
    this.retryAt = Date.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopping) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.kick();
      },
      Math.max(0, this.retryAt - Date.now()),
    );
    this.retryTimer.unref();
  }
}
