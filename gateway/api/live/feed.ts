import type { ServerResponse } from 'node:http';
import type { CommandRecord } from '../../commands/schema.ts';
import { mergeTelemetry, type Bus, type BusMessage } from '../../core/bus.ts';
import type { CanonicalFields } from '../../../drivers/contract/canonical.ts';
import type { CachedSnapshot } from '../../core/snapshots.ts';
import { frame, type LiveEventData, type LiveEventName } from './frames.ts';

/** How often the gateway strip is sent; it doubles as the stream's heartbeat. */
export const HEARTBEAT_MS = 5000;
/** A phone that has not taken this much is cut off: it reconnects and starts again from `hello`. */
const MAX_BUFFERED_BYTES = 256 * 1024;
/** How long EventSource waits before reconnecting. */
const RETRY_MS = 3000;

type DeviceView = LiveEventData<'hello'>['devices'][number];

/** JSON with keys sorted: a camera's checks finish in any order, and that is no change. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
type GatewayView = LiveEventData<'gateway'>;

/** What the feed reads of the running gateway. */
export interface LiveSources {
  village: string;
  bus: Pick<Bus, 'subscribe'>;
  onCommand(listener: (rec: CommandRecord) => void): void;
  onFrame(listener: (device: string, frame: CachedSnapshot) => void): () => void;
  devices(): DeviceView[];
  device(id: string): DeviceView | undefined;
  gateway(): Promise<GatewayView>;
}

/**
 * One feed for every open stream: it listens to the bus once, works out what changed
 * once (readings field by field, health only when it changes) and writes the same frame
 * to every client. A client starts with `hello` (the whole picture), so a reconnect
 * needs no replay.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private readonly sentFields = new Map<string, Record<string, unknown>>();
  private readonly sentHealth = new Map<string, string>();
  private readonly unsubscribe: (() => void)[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private seq = 0;
  private closed = false;

  constructor(private readonly src: LiveSources) {
    this.unsubscribe.push(src.bus.subscribe((m) => this.onBus(m)));
    this.unsubscribe.push(
      src.onFrame((device, f) =>
        this.broadcast('snapshot', { device, etag: f.etag, takenAt: f.takenAt, luma: f.luma }),
      ),
    );
    src.onCommand((rec) => this.broadcast('command', rec));
  }

  get size(): number {
    return this.clients.size;
  }

  /** Start a stream on `res` (headers already chosen by the route) and keep it until either side ends it. */
  async add(res: ServerResponse): Promise<void> {
    const gateway = await this.src.gateway();
    if (this.closed || res.destroyed) return void res.end();
    res.write(`retry: ${RETRY_MS}\n\n`);
    // Taken and registered in one turn: no change can fall between the picture and the first update.
    res.write(
      frame(++this.seq, 'hello', {
        village: this.src.village,
        devices: this.src.devices(),
        gateway,
        heartbeatMs: HEARTBEAT_MS,
      }),
    );
    this.clients.add(res);
    res.once('close', () => this.clients.delete(res));
    this.heartbeat ??= setInterval(() => void this.beat().catch(() => undefined), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** End every stream (the API is closing: open streams would hold its server up). */
  close(): void {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const u of this.unsubscribe.splice(0)) u();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private async beat(): Promise<void> {
    if (this.clients.size === 0) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      return;
    }
    this.broadcast('gateway', await this.src.gateway());
  }

  private onBus(m: BusMessage): void {
    if (this.closed) return;
    if (m.type === 'telemetry') {
      const sent = this.sentFields.get(m.device.id) ?? {};
      const changed = Object.fromEntries(
        Object.entries(m.fields).filter(([k, v]) => sent[k] !== v && v !== undefined),
      );
      const unknown = (m.unknown ?? []).filter((k) => sent[k] !== undefined);
      if (Object.keys(changed).length === 0 && unknown.length === 0) return;
      this.sentFields.set(m.device.id, mergeTelemetry(sent as CanonicalFields, m));
      this.broadcast('state', {
        device: m.device.id,
        fields: changed,
        ...(unknown.length ? { unknown } : {}),
        time: m.time,
      });
    } else if (m.type === 'health') {
      const view = this.src.device(m.device.id);
      if (!view) return;
      const { since: _since, ...health } = view.health;
      const key = stableJson([health, view.features]);
      if (this.sentHealth.get(m.device.id) === key) return;
      this.sentHealth.set(m.device.id, key);
      this.broadcast('health', {
        device: view.id,
        health: view.health,
        ...(view.features ? { features: view.features } : {}),
        errors: view.errors,
      });
    } else if (m.type === 'event') {
      this.broadcast('event', { device: m.device.id, ...m.event, time: m.time });
    }
  }

  private broadcast<E extends LiveEventName>(event: E, data: LiveEventData<E>): void {
    if (this.closed || this.clients.size === 0) return;
    const text = frame(++this.seq, event, data);
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.clients.delete(res);
        res.destroy();
      } else res.write(text);
    }
  }
}
