import type { Operation } from '../types.ts';
import { at, esc, text } from '../../soap/xml.ts';
import { requestedTermination, timesXml } from './times.ts';

export const CreatePullPointSubscription: Operation = {
  access: 'user',
  handle: ({ cam, req }) => {
    const termination = requestedTermination(at(req.body, 'InitialTerminationTime'), cam.state);
    const filter = text(at(req.body, 'Filter', 'TopicExpression'));
    const sub = cam.subscriptions.create(termination, filter ? [filter] : []);
    return `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>${esc(cam.urls.subscription(sub.id))}</wsa:Address></tev:SubscriptionReference>${timesXml('wsnt', cam.state, sub.terminationMs)}</tev:CreatePullPointSubscriptionResponse>`;
  },
};
