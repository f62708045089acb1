/**
 * One benchmark's outcome. Every benchmark measures a ceiling in the same run
 * (raw influxd writes, plain aedes, a serial frame's wire time…) and reports a ratio
 * against it plus absolute figures.
 */
export interface BenchResult {
  name: string;
  /** Markdown lines (a table or bullets) for bench/RESULTS.md and the console. */
  lines: string[];
  /**
   * Headline ratios, e.g. { 'ingest vs raw influxd': 0.91 }, with the target where one exists:
   * `target` is met at or above it, `max` (figures where lower is better) below it.
   */
  ratios: { label: string; value: number; target?: number; max?: number }[];
}

/** A benchmark module exports `run` and must stop every process it starts, bounded in time. */
export type BenchRun = (opts: { quick: boolean; log: (line: string) => void }) => Promise<BenchResult>;
