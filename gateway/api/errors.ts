import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import { isDriverError } from '../../drivers/contract/errors.ts';
import { fromDriverError, GatehouseError, isGatehouseError } from '../errors.ts';

interface AjvLikeError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function field(context: string | undefined, instancePath: string): string {
  const p = instancePath.replace(/^\//, '').replace(/\//g, '.');
  return [context, p].filter(Boolean).join('.');
}

/**
 * One sentence per bad field, saying what to fix: "body.action must be one of open,
 * close, …" rather than Ajv's one line per union branch.
 */
export function formatValidation(errors: AjvLikeError[], context?: string): string {
  const byPath = new Map<string, AjvLikeError[]>();
  for (const e of errors) {
    const key =
      e.keyword === 'required'
        ? field(context, `${e.instancePath}/${String(e.params.missingProperty)}`)
        : e.keyword === 'additionalProperties'
          ? field(context, `${e.instancePath}/${String(e.params.additionalProperty)}`)
          : field(context, e.instancePath);
    byPath.set(key, [...(byPath.get(key) ?? []), e]);
  }
  const parts: string[] = [];
  for (const [f, errs] of byPath) {
    const consts = errs.filter((e) => e.keyword === 'const').map((e) => String(e.params.allowedValue));
    const first = errs.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'const') ?? errs[0]!;
    if (consts.length > 0) parts.push(`${f} must be one of ${consts.join(', ')}`);
    else if (first.keyword === 'required') parts.push(`${f} is required`);
    else if (first.keyword === 'additionalProperties') parts.push(`${f} is not a known field (remove it)`);
    else parts.push(`${f} ${first.message ?? 'is invalid'}`);
  }
  return parts.join('; ');
}

/**
 * Every error answer has the same shape and a code from the catalogue; a device's
 * failure also carries its health reason, so a client can act on it without parsing.
 */
function send(
  reply: { status(code: number): { send(body: unknown): unknown } },
  err: GatehouseError,
  status = err.statusCode,
  error = STATUS_CODES[status] ?? 'Error',
) {
  const reason = err.details?.reason;
  return reply.status(status).send({
    statusCode: status,
    code: err.code,
    error,
    message: err.message,
    ...(typeof reason === 'string' ? { reason } : {}),
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any type provider
export function registerErrorHandling(app: FastifyInstance<any, any, any, any, any>): void {
  app.setSchemaErrorFormatter((errors, dataVar) => {
    return new Error(formatValidation(errors as unknown as AjvLikeError[], dataVar));
  });
  app.setErrorHandler((thrown: FastifyError, req, reply) => {
    // A driver's failure that a route did not translate: its kind decides the answer.
    const err = isDriverError(thrown) ? fromDriverError(thrown) : thrown;
    if (isGatehouseError(err)) {
      // A refusal that says when to come back (a full command queue) says so in the header too.
      const retryAfterS = err.details?.retryAfterS;
      if (err.statusCode === 429 && typeof retryAfterS === 'number')
        void reply.header('retry-after', retryAfterS);
      return send(reply, err);
    }
    if (err.validation) return send(reply, new GatehouseError('GH_API_BAD_REQUEST', { detail: err.message }));
    // Fastify's own refusals (bad JSON, body too large, media type) keep their status and
    // message; the code is the catalogue's, not Fastify's FST_ one.
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return send(reply, new GatehouseError('GH_INTERNAL'), status, 'Internal Server Error');
    }
    return send(reply, new GatehouseError('GH_API_BAD_REQUEST', { detail: err.message }), status);
  });
  app.setNotFoundHandler((req, reply) => {
    const detail = `no route ${req.method} ${req.url}; see /docs for the API`;
    send(reply, new GatehouseError('GH_API_NOT_FOUND', { detail }));
  });
}
