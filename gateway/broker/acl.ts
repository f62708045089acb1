import type { MqttRole } from './config.ts';
import { deviceOf, deviceTopic, filterWithin, INBOUND, leafOf } from './topics.ts';

/** Who a connected client is, as authentication established it. */
export interface MqttIdentity {
  username: string;
  role: MqttRole;
  /** For role `device`: the only device whose topics it may use. */
  device?: string;
  anonymous?: boolean;
  /** The bridge injecting what came from the town broker: its commands are checked as the uplink's. */
  uplink?: boolean;
}

/**
 * The role rules (README, Interfaces: MQTT), as pure functions of identity, prefix and
 * topic so they are tested without a broker. The catalogue's inbound topics (`cmd`) are
 * those addressed to a device:
 * - admin: everything;
 * - platform: publish inbound topics (`<prefix>/<device>/cmd`), subscribe to anything;
 * - device: publish under `<prefix>/<own id>/…` except the inbound branches (`cmd`,
 *   `cmd/…`: no device answers for the gateway), subscribe only to its own inbound topics;
 * - reader: subscribe under the prefix, never publish.
 */
export function mayPublish(id: MqttIdentity, prefix: string, topic: string): boolean {
  switch (id.role) {
    case 'admin':
      return true;
    case 'platform':
      return INBOUND.some((name) => deviceOf(prefix, name, topic) !== undefined);
    case 'device': {
      if (!id.device) return false;
      const own = `${prefix}/${id.device}/`;
      if (!topic.startsWith(own)) return false;
      const rest = topic.slice(own.length);
      return rest.length > 0 && !INBOUND.map(leafOf).some((l) => rest === l || rest.startsWith(`${l}/`));
    }
    case 'reader':
      return false;
  }
}

export function maySubscribe(id: MqttIdentity, prefix: string, filter: string): boolean {
  switch (id.role) {
    case 'admin':
    case 'platform':
      return true;
    case 'device': {
      const own = id.device;
      return own !== undefined && INBOUND.some((name) => filter === deviceTopic(prefix, name, own));
    }
    case 'reader':
      return filterWithin(filter, prefix);
  }
}
