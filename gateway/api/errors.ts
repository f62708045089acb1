import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import { isDriverError } from '../../drivers/contract/errors.ts';
import { fromDriverError, isGatehouseError } from '../errors.ts';

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any type provider
export function registerErrorHandling(app: FastifyInstance<any, any, any, any, any>): void {
  app.setSchemaErrorFormatter((errors, dataVar) => {
    return new Error(formatValidation(errors as unknown as AjvLikeError[], dataVar));
  });
  app.setErrorHandler((thrown: FastifyError, req, reply) => {
    // A driver's failure that a route did not translate: its kind decides the answer.
    const err = isDriverError(thrown) ? fromDriverError(thrown) : thrown;
    if (isGatehouseError(err)) {
      return reply.status(err.statusCode).send({
        statusCode: err.statusCode,
        code: err.code,
        error: STATUS_CODES[err.statusCode] ?? 'Error',
        message: err.message,
      });
    }
    if (err.validation) {
      return reply
        .status(400)
        .send({ statusCode: 400, code: 'GH_API_BAD_REQUEST', error: 'Bad Request', message: err.message });
    }
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.status(status).send({
      statusCode: status,
      code: err.code ?? (status >= 500 ? 'GH_INTERNAL' : 'GH_API_BAD_REQUEST'),
      error: status >= 500 ? 'Internal Server Error' : 'Bad Request',
      message: status >= 500 ? 'internal error; see the gateway log' : err.message,
    });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({
      statusCode: 404,
      code: 'GH_API_NOT_FOUND',
      error: 'Not Found',
      message: `no route ${req.method} ${req.url}; see /docs for the API`,
    });
  });
}
