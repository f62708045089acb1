import type { Operation } from '../types.ts';
import { faults } from '../../soap/envelope.ts';
import { at, isoSeconds } from '../../soap/xml.ts';
import { subscriptionOf } from './subscription.ts';
import { requestedTermination } from './times.ts';

export const Renew: Operation = {
  access: 'user',
  handle: (ctx) => {
    const sub = subscriptionOf(ctx);
    const termination = requestedTermination(at(ctx.req.body, 'TerminationTime'), ctx.cam.state);
    if (termination === undefined) throw faults.invalidArg('TerminationTime is required');
    ctx.cam.subscriptions.renew(sub, termination);
    const state = ctx.cam.state;
    // WS-BaseNotification puts TerminationTime first here, unlike the other responses.
    return `<wsnt:RenewResponse><wsnt:TerminationTime>${isoSeconds(sub.terminationMs + state.skewS * 1000)}</wsnt:TerminationTime><wsnt:CurrentTime>${isoSeconds(state.nowMs())}</wsnt:CurrentTime></wsnt:RenewResponse>`;
  },
};
