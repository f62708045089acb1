import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CommandRequest } from '../commands/schema.ts';
import { GatehouseError } from '../errors.ts';

/** The fields a town platform adds to a `<device>/cmd` payload to sign it. */
export interface Signed {
  issuedAt?: string;
  hmac?: string;
}

/**
 * What the HMAC covers: the topic (so a command for one barrier cannot be replayed to
 * another) and every field of the command, one per line, the reason last (the only
 * field that may hold a line break). README, "Who sent it", shows it with openssl.
 */
export function signingString(topic: string, req: CommandRequest, issuedAt: string): string {
  return [
    'gatehouse-cmd-v1',
    topic,
    req.requestId,
    req.action,
    req.holdSeconds === undefined ? '' : String(req.holdSeconds),
    req.actor ?? '',
    issuedAt,
    req.reason,
  ].join('\n');
}

export function signCommand(key: string, topic: string, req: CommandRequest, issuedAt: string): string {
  return createHmac('sha256', key)
    .update(signingString(topic, req, issuedAt), 'utf8')
    .digest('hex');
}

/**
 * Check a command from the uplink against the village's key. Throws
 * GH_COMMAND_SIGNATURE saying what is wrong; the key and the expected HMAC are never
 * in the message.
 */
export function verifyCommand(
  key: string,
  maxAgeS: number,
  topic: string,
  req: CommandRequest,
  signed: Signed,
  now = Date.now(),
): void {
  if (!signed.hmac || !signed.issuedAt) {
    throw new GatehouseError('GH_COMMAND_SIGNATURE', {
      detail: 'the village requires signed commands (bridge.commandKey): add issuedAt and hmac',
    });
  }
  const at = Date.parse(signed.issuedAt);
  if (!Number.isFinite(at) || Math.abs(now - at) > maxAgeS * 1000) {
    throw new GatehouseError('GH_COMMAND_SIGNATURE', {
      detail: `issuedAt ${signed.issuedAt} is more than ${maxAgeS} s from the gateway's clock (bridge.commandMaxAgeS)`,
    });
  }
  const expected = Buffer.from(signCommand(key, topic, req, signed.issuedAt), 'hex');
  const given = Buffer.from(/^[0-9a-f]{64}$/i.test(signed.hmac) ? signed.hmac : '', 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new GatehouseError('GH_COMMAND_SIGNATURE', {
      detail: 'hmac does not match the command (a wrong key, or the payload was changed on the way)',
    });
  }
}
