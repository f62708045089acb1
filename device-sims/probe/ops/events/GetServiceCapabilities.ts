import type { Operation } from '../types.ts';

export const GetServiceCapabilities: Operation = {
  access: 'user',
  handle: () =>
    '<tev:GetServiceCapabilitiesResponse><tev:Capabilities WSSubscriptionPolicySupport="true" WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="0" MaxPullPoints="20" PersistentNotificationStorage="false"/></tev:GetServiceCapabilitiesResponse>',
};
