import { ERRORS, GatehouseError, type ErrorCode } from '../errors.ts';

/** The options every command that talks to a running gateway takes. */
export const GATEWAY_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
} as const;

export const GATEWAY_USAGE = `  --url URL        the gateway's API (default http://127.0.0.1:8080)
  --token TOKEN    an admin bearer token (default: $GATEHOUSE_API_TOKEN; prefer the
                   variable: a flag shows in the process list)`;

/** The gateway answered with an error: shown as its code and message, as a local one would be. */
export class GatewayAnswer extends GatehouseError {
  constructor(
    code: string,
    message: string,
    readonly httpStatus: number,
  ) {
    super(Object.hasOwn(ERRORS, code) ? (code as ErrorCode) : 'GH_INTERNAL', [], {
      details: { status: httpStatus, code },
    });
    this.message = message;
  }
}

export interface GatewayClient {
  call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

export interface ClientOptions {
  /** Give up on an answer after this long. */
  timeoutMs?: number;
  /** Refuse to start without a token (commissioning needs an admin one); otherwise the gateway says 401. */
  tokenRequired?: boolean;
}

export function gatewayClient(
  values: { url?: string | undefined; token?: string | undefined },
  { timeoutMs = 30_000, tokenRequired = true }: ClientOptions = {},
): GatewayClient & { url: string } {
  const url = values.url ?? 'http://127.0.0.1:8080';
  const token = values.token ?? process.env.GATEHOUSE_API_TOKEN ?? '';
  if (!token && tokenRequired) {
    throw new GatehouseError('GH_CLI_USAGE', ['give an admin token in GATEHOUSE_API_TOKEN (or --token)']);
  }
  return {
    url,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(new URL(path, url), {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const detail =
          (err as Error).name === 'TimeoutError'
            ? `nothing within ${timeoutMs} ms`
            : (cause?.code ?? cause?.message ?? (err as Error).message);
        throw new GatehouseError('GH_GATEWAY_UNREACHABLE', { url, detail });
      }
      const text = await res.text();
      let answer: unknown;
      try {
        answer = text ? JSON.parse(text) : {};
      } catch {
        throw new GatehouseError('GH_GATEWAY_UNREACHABLE', {
          url,
          detail: `HTTP ${res.status} with a body that is not JSON (is this a Gatehouse API?)`,
        });
      }
      if (!res.ok) {
        const e = answer as { code?: string; message?: string };
        throw new GatewayAnswer(e.code ?? 'GH_INTERNAL', e.message ?? `HTTP ${res.status}`, res.status);
      }
      return answer as T;
    },
  };
}
