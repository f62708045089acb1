import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CommandRequestSchema, type CommandRecord, type CommandRequest } from '../../commands/schema.ts';
import type { ErrorCode } from '../../errors.ts';

/** A `<device>/cmd` payload: a command as the API takes it, and what signs it (README, Who sent it). */
export const MqttCommandSchema = Type.Composite(
  [
    CommandRequestSchema,
    Type.Object({
      issuedAt: Type.Optional(Type.String({ maxLength: 64, description: 'ISO time the sender signed it' })),
      hmac: Type.Optional(
        Type.String({ maxLength: 128, description: 'HMAC-SHA256 hex with the village key' }),
      ),
    }),
  ],
  { additionalProperties: false },
);

const checker = TypeCompiler.Compile(MqttCommandSchema);

/** No command comes near this; a bigger payload is refused unparsed. */
export const MAX_COMMAND_BYTES = 4 * 1024;

/** The body of `<device>/cmd/result` when a command never became a record. */
export interface CommandRejection {
  requestId?: string;
  device: string;
  state: 'failed';
  error: { code: ErrorCode; message: string; field?: string };
  time: string;
}

/** A `<device>/cmd` payload checked against CommandRequestSchema; errors name the field. */
export function parseCommand(
  payload: Buffer,
):
  | { ok: true; request: CommandRequest; signed: { issuedAt?: string; hmac?: string } }
  | { ok: false; message: string; field?: string; requestId?: string } {
  if (payload.length > MAX_COMMAND_BYTES) {
    return {
      ok: false,
      message: `payload of ${payload.length} bytes is over the ${MAX_COMMAND_BYTES} a command may have`,
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, message: `payload is not JSON: ${(err as Error).message}` };
  }
  if (checker.Check(body)) {
    const { issuedAt, hmac, ...request } = body;
    return {
      ok: true,
      request,
      signed: { ...(issuedAt !== undefined ? { issuedAt } : {}), ...(hmac !== undefined ? { hmac } : {}) },
    };
  }
  const first = checker.Errors(body).First();
  const requestId =
    body && typeof body === 'object' && typeof (body as { requestId?: unknown }).requestId === 'string'
      ? (body as { requestId: string }).requestId
      : undefined;
  const field = first?.path.replace(/^\//, '') || undefined;
  return {
    ok: false,
    message: `${field ?? 'body'}: ${first?.message ?? 'invalid command'}`,
    ...(field ? { field } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

/** Publishes each state of a command once, whichever path (submit's answer or the service's updates) brings it first. */
export class TransitionFilter {
  private readonly seen = new Map<string, Set<string>>();
  constructor(private readonly max = 10_000) {}

  isNew(record: CommandRecord): boolean {
    let states = this.seen.get(record.id);
    if (!states) {
      states = new Set();
      this.seen.set(record.id, states);
      if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!);
    }
    if (states.has(record.state)) return false;
    states.add(record.state);
    return true;
  }
}
