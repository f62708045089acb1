import type { Static } from '@sinclair/typebox';
import type { CommandService } from '../commands/service.ts';
import type { DeviceRegistry } from '../core/registry.ts';
import type { StateStore } from '../core/state.ts';
import type { Bus } from '../core/bus.ts';
import type { SnapshotCache } from '../core/snapshots.ts';
import type { Sink } from '../sinks/sink.ts';
import type { OccupancyTracker } from '../occupancy.ts';
import type { ApiLimitsSchema } from '../config/schema.ts';
import type { Role, TokenEntry, TokenStore } from '../credentials/tokens.ts';

export type { Role };
/** Who a request authenticated as. */
export type ApiToken = TokenEntry;
export type ApiLimits = Static<typeof ApiLimitsSchema>;

/** What a credentials reload did (POST /api/v1/admin/reload-credentials, SIGHUP). */
export interface CredentialsReload {
  tokens: number;
  mqttUsers: number;
  /** MQTT users whose connected clients were disconnected (removed or changed). */
  disconnected: string[];
}

/** What the crew's strip reads of the gateway itself, besides the sinks. */
export interface GatewayParts {
  /** Where the spool, the uplink queue and the audit log live: its free space is shown. */
  dataDir: string;
  /** The bridge to the town broker, when configured. */
  uplink?: { status(): 'connected' | 'spooling' | 'closed'; stats(): Record<string, number> };
  brokerClients(): number;
}

/** What the API may see of the running gateway; routes get nothing else. */
export interface ApiContext {
  village: string;
  registry: DeviceRegistry;
  state: StateStore;
  commands: CommandService;
  occupancy: OccupancyTracker;
  sinks: readonly Sink[];
  /** The bus, for the live stream (GET /api/v1/events/stream). */
  bus: Pick<Bus, 'subscribe'>;
  /** The probes' latest pictures, refreshed on each probe's poll. */
  snapshots: SnapshotCache;
  /** The gateway's own parts the crew sees (GET /api/v1/gateway). */
  gateway: GatewayParts;
  /** The tokens in force; a reload replaces its contents. */
  tokens: TokenStore;
  /** `api.limits`; absent, the schema's defaults. */
  limits?: ApiLimits;
  /** Re-read the config file's tokens and MQTT users. */
  reloadCredentials?(): Promise<CredentialsReload>;
  /** False until config is loaded and every sink is connected or spooling. */
  ready(): { ready: boolean; checks: Record<string, string> };
  /** Prometheus text for /metrics. */
  metrics(): Promise<string>;
}
