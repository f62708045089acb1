import { randomBytes } from 'node:crypto';

export interface Job<R> {
  id: string;
  kind: string;
  state: 'running' | 'done' | 'failed';
  progress: { done: number; total: number; found: number };
  startedAt: string;
  finishedAt?: string;
  result?: R;
  error?: string;
}

const KEEP = 50;

/** Long installer work (a subnet scan) runs as a job the installer can watch. */
export class Jobs {
  private readonly jobs = new Map<string, Job<unknown>>();

  start<R>(kind: string, work: (progress: (p: Job<R>['progress']) => void) => Promise<R>): Job<R> {
    const job: Job<R> = {
      id: `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      kind,
      state: 'running',
      progress: { done: 0, total: 0, found: 0 },
      startedAt: new Date().toISOString(),
    };
    this.jobs.set(job.id, job as Job<unknown>);
    if (this.jobs.size > KEEP) this.jobs.delete(this.jobs.keys().next().value!);
    work((p) => (job.progress = p)).then(
      (r) => Object.assign(job, { state: 'done', result: r, finishedAt: new Date().toISOString() }),
      (err: unknown) =>
        Object.assign(job, {
          state: 'failed',
          error: (err as Error).message,
          finishedAt: new Date().toISOString(),
        }),
    );
    return job;
  }

  get(id: string): Job<unknown> | undefined {
    return this.jobs.get(id);
  }
}
