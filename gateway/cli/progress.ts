import cliProgress from 'cli-progress';

export interface Progress {
  update(p: { done: number; total: number; found: number }): void;
  stop(): void;
}

/**
 * A progress bar on stderr (stdout stays clean for --json and for pipes). On a terminal
 * it redraws in place; into a file or a CI log it prints a line every few seconds.
 */
export function progressBar(what: string, found = 'found'): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${what} {bar} {value}/{total} | {found} ${found} | {duration_formatted}, ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update({ done, total, found: n }) {
      if (!started) {
        bar.start(Math.max(total, 1), done, { found: n });
        started = true;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(done, { found: n });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
