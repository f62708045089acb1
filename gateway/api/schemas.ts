import { Type, type TObject } from '@sinclair/typebox';
import { ERRORS } from '../errors.ts';

/**
 * Response schemas every route shares, so the OpenAPI document tells a client generator
 * each answer a route can give, errors included (their shape is gateway/api/errors.ts's).
 */

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 502 | 503 | 504;

const WHEN: Record<ErrorStatus, string> = {
  400: 'the request does not fit the route: one sentence per bad field',
  401: 'no bearer token, or one the gateway does not know',
  403: "the token's role is below the route's",
  404: 'no such device, command, site or job',
  409: 'a conflict with what the gateway or the device holds',
  413: 'the body is larger than the route takes (api.limits)',
  422: 'the device cannot do this',
  429: 'too many requests (failed sign-ins, commands per token or address, a full barrier queue); the retry-after header says when to come back',
  500: 'the gateway could not do it (e.g. GH_CONFIG_WRITE: the config file could not be saved, nothing was changed)',
  502: 'the device failed; `reason` is its health reason',
  503: 'the gateway cannot take it now (GH_COMMAND_NOT_RECORDED: the audit log refused the write, nothing was actuated)',
  504: 'the device did not answer in time; `reason` is its health reason',
};

/** The catalogue's codes a status can carry (docs/errors.md says what each means). */
const codesOf = (status: number) =>
  status === 413 // Fastify's own refusal, answered with the bad-request code (gateway/api/errors.ts)
    ? ['GH_API_BAD_REQUEST']
    : Object.entries(ERRORS)
        .filter(([, e]) => e.status === status)
        .map(([code]) => code);

const errorSchema = (status: ErrorStatus) =>
  Type.Object(
    {
      statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
      code: Type.String({ description: `one of ${codesOf(status).join(', ')} (see docs/errors.md)` }),
      error: Type.String({ description: 'the HTTP reason phrase' }),
      message: Type.String({ description: 'what went wrong and what to do, in one sentence' }),
      reason: Type.Optional(Type.String({ description: "a failing device's health reason" })),
    },
    { description: `Error: ${WHEN[status]}` },
  );

/** Error responses for a route's schema: `...errors(401, 403, 404)`. */
export function errors(...statuses: ErrorStatus[]): Partial<Record<ErrorStatus, TObject>> {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema(s)]));
}

/** What a route behind a token can always answer besides its own errors (429: too many failed sign-ins). */
export const AUTH_ERRORS = [401, 403, 429] as const satisfies readonly ErrorStatus[];
