/** Every topic of a village lives under this prefix (README, Interfaces: MQTT). */
export const PREFIX_PATTERN = 'gatehouse/v1/<village>';

export interface TopicSpec {
  /** Under the village prefix; `<device>` stands for one device id. */
  pattern: string;
  retained: boolean;
  /** `out`: the gateway publishes it; `in`: clients publish it to a device (the platform, the bridge). */
  direction: 'out' | 'in';
  /** QoS the gateway publishes at; for `in` topics the publisher chooses. */
  qos?: 0 | 1;
  payload: string;
}

/**
 * The topic catalogue: the sink publishes, the command intake subscribes, the ACL
 * grants and the bridge announces by these entries, and the README's table is
 * generated from them. Names are an interface outside tools rely on: keep them.
 */
export const TOPICS = {
  telemetry: {
    pattern: '<device>/telemetry',
    retained: false,
    direction: 'out',
    qos: 0,
    payload: 'canonical JSON `{time, device, kind, site?, lane?, fields}`',
  },
  state: {
    pattern: '<device>/state',
    retained: true,
    direction: 'out',
    qos: 1,
    payload: 'latest merged view `{device, kind, status, reason?, detail?, fields, time}`, on change',
  },
  availability: {
    pattern: '<device>/availability',
    retained: true,
    direction: 'out',
    qos: 1,
    payload: '`online` or `offline` (a degraded device is online; its reason is in `state`)',
  },
  events: {
    pattern: '<device>/events',
    retained: false,
    direction: 'out',
    qos: 0,
    payload: 'one event `{time, device, kind, type, detail, data?, commandId?, actor?}`',
  },
  cmd: {
    pattern: '<device>/cmd',
    retained: false,
    direction: 'in',
    payload: 'a gate command `{requestId, action, reason, holdSeconds?}`, as the API takes it',
  },
  cmdResult: {
    pattern: '<device>/cmd/result',
    retained: false,
    direction: 'out',
    qos: 1,
    payload: 'the command record once per state; `{requestId?, device, state: failed, error}` if refused',
  },
  gatewayStatus: {
    pattern: 'gateway/status',
    retained: true,
    direction: 'out',
    qos: 1,
    payload: '`online` or `offline`; `offline` is also the last will of the uplink',
  },
} as const satisfies Record<string, TopicSpec>;

export type TopicName = keyof typeof TOPICS;
/** Topics of one device, `<device>/…`. */
export type DeviceTopicName = {
  [K in TopicName]: (typeof TOPICS)[K]['pattern'] extends `<device>/${string}` ? K : never;
}[TopicName];

const DEVICE = '<device>';
const names = Object.keys(TOPICS) as TopicName[];
/** Topics addressed to a device, which only the platform (and admins) publish. */
export const INBOUND = names.filter((n) => TOPICS[n].direction === 'in') as DeviceTopicName[];

/** What follows `<device>/` in a device topic's pattern. */
export function leafOf(name: DeviceTopicName): string {
  return TOPICS[name].pattern.slice(DEVICE.length + 1);
}

export function villagePrefix(village: string): string {
  return PREFIX_PATTERN.replace('<village>', village);
}

export function deviceTopic(prefix: string, name: DeviceTopicName, device: string): string {
  return `${prefix}/${device}/${leafOf(name)}`;
}

/** The filter that matches the topic for every device. */
export function deviceFilter(prefix: string, name: DeviceTopicName): string {
  return deviceTopic(prefix, name, '+');
}

export function gatewayStatusTopic(prefix: string): string {
  return `${prefix}/${TOPICS.gatewayStatus.pattern}`;
}

/** The device a topic is addressed to, when it is that topic of a device; else undefined. */
export function deviceOf(prefix: string, name: DeviceTopicName, topic: string): string | undefined {
  const tail = `/${leafOf(name)}`;
  if (!topic.startsWith(prefix + '/') || !topic.endsWith(tail)) return undefined;
  const device = topic.slice(prefix.length + 1, -tail.length);
  return device.length > 0 && !/[/#+]/.test(device) ? device : undefined;
}

/** MQTT topic-filter matching (3.1.1 §4.7), including the `$` rule [MQTT-4.7.2-1]. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

export function startsWithWildcard(filter: string): boolean {
  return filter.startsWith('+') || filter.startsWith('#');
}

/** True when every topic `filter` can match lies under `prefix` (literal levels, no wildcard among them). */
export function filterWithin(filter: string, prefix: string): boolean {
  return filter.startsWith(prefix + '/') && !/[+#]/.test(prefix);
}
