import type { Operation } from '../types.ts';
import { faults } from '../../soap/envelope.ts';
import { at, parseDuration, text } from '../../soap/xml.ts';
import { notificationXml } from '../../events.ts';
import { subscriptionOf } from './subscription.ts';
import { timesXml } from './times.ts';

/**
 * Long poll: answers as soon as messages are queued, else after Timeout. Pulling does
 * not extend the subscription; clients Renew. Faults: `pull-immediate` answers at once
 * whatever the Timeout (firmware that ignores it); `event-backlog` keeps 1,000 messages
 * queued, so every pull answers at once with MessageLimit of them.
 */
export const PullMessages: Operation = {
  access: 'user',
  handle: async (ctx) => {
    const { cam, req } = ctx;
    const sub = subscriptionOf(ctx);
    const timeoutRaw = text(at(req.body, 'Timeout')) ?? 'PT0S';
    const timeoutMs = parseDuration(timeoutRaw);
    if (timeoutMs === undefined) throw faults.invalidArg(`Timeout is not an xs:duration: "${timeoutRaw}"`);
    const limitRaw = text(at(req.body, 'MessageLimit')) ?? '1';
    const limit = Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1)
      throw faults.invalidArg(`MessageLimit must be a positive integer, got "${limitRaw}"`);
    const { faults: f } = cam.state;
    const waitMs =
      f['pull-immediate'] || f['event-backlog']
        ? 0
        : Math.min(timeoutMs, cam.state.config.maxPullTimeoutS * 1000);
    if (f['event-backlog']) cam.subscriptions.fillBacklog(sub);
    const messages = await cam.subscriptions.pull(sub, waitMs, limit, ctx.aborted);
    return `<tev:PullMessagesResponse>${timesXml('tev', cam.state, sub.terminationMs)}${messages.map(notificationXml).join('')}</tev:PullMessagesResponse>`;
  },
};
