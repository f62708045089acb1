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
