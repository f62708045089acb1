import type { Operation } from '../types.ts';
import { CreatePullPointSubscription } from './CreatePullPointSubscription.ts';
import { GetEventProperties } from './GetEventProperties.ts';
import { GetServiceCapabilities } from './GetServiceCapabilities.ts';
import { PullMessages } from './PullMessages.ts';
import { Renew } from './Renew.ts';
import { SetSynchronizationPoint } from './SetSynchronizationPoint.ts';
import { Unsubscribe } from './Unsubscribe.ts';

/** Posted to the events service address. */
export const eventOps: Record<string, Operation> = {
  CreatePullPointSubscription,
  GetEventProperties,
  GetServiceCapabilities,
};

/** Posted to a pull-point's own manager address. */
export const subscriptionOps: Record<string, Operation> = {
  PullMessages,
  Renew,
  SetSynchronizationPoint,
  Unsubscribe,
};
