import type { Operation } from '../types.ts';
import { subscriptionOf } from './subscription.ts';

export const SetSynchronizationPoint: Operation = {
  access: 'user',
  handle: (ctx) => {
    ctx.cam.subscriptions.initialize(subscriptionOf(ctx));
    return '<tev:SetSynchronizationPointResponse/>';
  },
};
