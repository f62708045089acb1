import type { MqttRole } from './config.ts';
import { filterWithin } from './topics.ts';

/** Who a connected client is, as authentication established it. */
export interface MqttIdentity {
  username: string;
  role: MqttRole;
  /** For role `device`: the only device whose topics it may use. */
  device?: string;
  anonymous?: boolean;
}

const CMD_TOPIC = /^[^/#+]+\/cmd$/;

/**
 * The role rules (README, Interfaces: MQTT), as pure functions of identity, prefix and
 * topic so they are tested without a broker:
 * - admin: everything;
 * - platform: publish `<prefix>/<device>/cmd`, subscribe to anything;
 * - device: publish under `<prefix>/<own id>/…` except its `cmd` branch, subscribe only to its own `cmd`;
 * - reader: subscribe under the prefix, never publish.
 */
export function mayPublish(id: MqttIdentity, prefix: string, topic: string): boolean {
  switch (id.role) {
    case 'admin':
      return true;
    case 'platform':
      return topic.startsWith(prefix + '/') && CMD_TOPIC.test(topic.slice(prefix.length + 1));
    case 'device': {
      if (!id.device) return false;
      const own = `${prefix}/${id.device}/`;
      if (!topic.startsWith(own)) return false;
      const rest = topic.slice(own.length);
      return rest.length > 0 && rest !== 'cmd' && !rest.startsWith('cmd/');
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
    case 'device':
      return id.device !== undefined && filter === `${prefix}/${id.device}/cmd`;
    case 'reader':
      return filterWithin(filter, prefix);
  }
}
