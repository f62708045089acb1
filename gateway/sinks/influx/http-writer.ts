import http from 'node:http';
import https from 'node:https';

/**
 * The hot path: pre-serialized line protocol POSTed to `/write` over one keep-alive
 * connection. node-influx's writePoints builds and escapes every point again on each
 * call and costs ~15 µs of gateway CPU per point; in bench/ingest.ts runs on the 2-core
 * test VM it reached 41-62 % of raw writes to the same influxd, the sink's own path
 * 67-81 %. So node-influx is kept for schema management only.
 */

export type WriteOutcome =
  | { ok: true }
  /** InfluxDB refused the data itself (parse error, field type conflict): retrying cannot help. */
  | { ok: false; retry: false; status: number; error: string; dropped?: number }
  /** Down, slow, overloaded, unauthorised or database missing: keep the batch and retry later. */
  | { ok: false; retry: true; status?: number; error: string; databaseMissing?: boolean };

export interface HttpWriterOptions {
  url: string;
  database: string;
  retentionPolicy: string;
  username?: string;
  password?: string;
  timeoutMs: number;
}

export class HttpLineWriter {
  private readonly agent: http.Agent;
  private readonly mod: typeof http | typeof https;
  private readonly base: URL;
  private readonly path: string;
  private readonly auth: string | undefined;

  constructor(private readonly opts: HttpWriterOptions) {
    this.base = new URL(opts.url);
    this.mod = this.base.protocol === 'https:' ? https : http;
    this.agent = new this.mod.Agent({ keepAlive: true, maxSockets: 2 });
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const q = new URLSearchParams({ db: opts.database, rp: opts.retentionPolicy, precision: 'ms' });
    this.path = `${prefix}/write?${q}`;
    // Basic auth in a header keeps the password out of URLs (and of any access log).
    this.auth =
      opts.username !== undefined
        ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`
        : undefined;
  }

  write(body: Buffer): Promise<WriteOutcome> {
    return new Promise((resolve) => {
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': body.length,
      };
      if (this.auth) headers.authorization = this.auth;
      const req = this.mod.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          method: 'POST',
          path: this.path,
          agent: this.agent,
          headers,
          timeout: this.opts.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => resolve({ ok: false, retry: true, error: err.message }));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status === 204 || status === 200) return resolve({ ok: true });
            const error = influxError(Buffer.concat(chunks).toString('utf8')) || `HTTP ${status}`;
            if (status === 404 || /database not found/.test(error)) {
              return resolve({ ok: false, retry: true, status, error, databaseMissing: true });
            }
            // 400: unparseable or conflicting points; 413: a batch over max-body-size.
            if (status === 400 || status === 413) {
              // "partial write: ... dropped=N": the rest of the batch was stored.
              const dropped = /dropped=(\d+)/.exec(error)?.[1];
              return resolve({
                ok: false,
                retry: false,
                status,
                error,
                dropped: dropped ? Number(dropped) : undefined,
              });
            }
            resolve({ ok: false, retry: true, status, error });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.opts.timeoutMs} ms`)));
      req.on('error', (err) => resolve({ ok: false, retry: true, error: err.message }));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function influxError(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown };
    return typeof j.error === 'string' ? j.error : text.trim();
  } catch {
    return text.trim();
  }
}
