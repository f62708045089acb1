import type { BusMessage } from '../core/bus.ts';

export type SinkStatus = 'connected' | 'spooling' | 'connecting' | 'disabled' | 'closed';

/**
 * A sink consumes bus messages. `handle` must return quickly (queue inside);
 * `flush` waits for everything handled so far to be written or durably spooled.
 */
export interface Sink {
  readonly name: string;
  start(): Promise<void>;
  handle(msg: BusMessage): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  status(): SinkStatus;
  /** Counters for /metrics and the `gateway` measurement (points_written, points_dropped, spool_bytes…). */
  stats(): Record<string, number>;
}
