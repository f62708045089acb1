/**
 * How many cases each property runs: 10,000 in the suite, more with `npm run fuzz`
 * (GATEHOUSE_FUZZ_RUNS). A fixed seed in GATEHOUSE_FUZZ_SEED replays a failing run.
 */
export const RUNS = Number(process.env.GATEHOUSE_FUZZ_RUNS ?? 10_000);

export const fcOptions = (runs = RUNS) => ({
  numRuns: runs,
  ...(process.env.GATEHOUSE_FUZZ_SEED ? { seed: Number(process.env.GATEHOUSE_FUZZ_SEED) } : {}),
});

/** An exception a parser must never let out: a bug, not a refusal of bad input. */
export function isCrash(err: unknown): boolean {
  return (
    !(err instanceof Error) ||
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError
  );
}

/** A property's time limit, grown with its runs (npm run fuzz runs 5x the suite's). */
export const TIMEOUT_MS = 120_000 * Math.max(1, RUNS / 10_000);
