import type { OpContext } from '../types.ts';
import type { Subscription } from '../../events.ts';
import { faults } from '../../soap/envelope.ts';

/** The subscription whose manager path the request was posted to. */
export function subscriptionOf(ctx: OpContext): Subscription {
  if (!ctx.subscriptionId) throw faults.resourceUnknown('Not a subscription manager address');
  return ctx.cam.subscriptions.get(ctx.subscriptionId);
}
