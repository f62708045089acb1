import type { CommandService } from '../commands/service.ts';
import type { DeviceRegistry } from '../core/registry.ts';
import type { StateStore } from '../core/state.ts';
import type { Sink } from '../sinks/sink.ts';
import type { OccupancyTracker } from '../occupancy.ts';

export type Role = 'admin' | 'platform' | 'reader';

export interface ApiToken {
  name: string;
  role: Role;
  token: string;
}

/** What the API may see of the running gateway; routes get nothing else. */
export interface ApiContext {
  village: string;
  registry: DeviceRegistry;
  state: StateStore;
  commands: CommandService;
  occupancy: OccupancyTracker;
  sinks: readonly Sink[];
  tokens: readonly ApiToken[];
  /** False until config is loaded and every sink is connected or spooling. */
  ready(): { ready: boolean; checks: Record<string, string> };
  /** Prometheus text for /metrics. */
  metrics(): Promise<string>;
}
