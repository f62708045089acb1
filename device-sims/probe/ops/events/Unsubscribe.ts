import type { Operation } from '../types.ts';
import { subscriptionOf } from './subscription.ts';

export const Unsubscribe: Operation = {
  access: 'user',
  handle: (ctx) => {
    ctx.cam.subscriptions.unsubscribe(subscriptionOf(ctx));
    return '<wsnt:UnsubscribeResponse/>';
  },
};
