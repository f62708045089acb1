// One server-sent-events stream for the whole page, and what to do when it breaks.

const EVENTS = ['hello', 'state', 'health', 'event', 'command', 'snapshot', 'gateway'];
const POLL_MS = 5000;
const MAX_RETRY_MS = 30_000;

/**
 * Live updates over GET /api/v1/events/stream, read with fetch rather than EventSource:
 * EventSource cannot send an Authorization header, and a token in the URL ends up in
 * browser history and proxies' logs. Each connection starts with `hello`, the whole
 * picture, so a reconnect needs no replay.
 *
 * The stream says it is alive with a `gateway` event every heartbeatMs; three missed
 * means stale. While the stream is down the page asks the API itself every POLL_MS
 * (`poll` answers ok, refused or unreachable), so what is on screen is either current
 * or visibly marked as old.
 *
 * onStatus gets: live, polling (stream down, API answers), stale, unreachable, refused.
 */
export function startLive({ token, onMessage, onStatus, poll }) {
  let source; // the AbortController of the stream's request
  let status = '';
  let heartbeatMs = 5000;
  let lastFrame = Date.now();
  let retryMs = 1000;
  let retryTimer;
  let pollTimer;
  let checking = false;
  let stopped = false;

  const set = (s) => {
    if (s !== status) onStatus((status = s));
  };

  async function check() {
    if (checking || stopped) return;
    checking = true;
    const answer = await poll();
    checking = false;
    if (stopped || status === 'live') return;
    if (answer === 'refused') {
      stop();
      onStatus('refused');
    } else set(answer === 'ok' ? 'polling' : 'unreachable');
  }

  function fallBack() {
    if (status === 'live' || status === '') set('stale');
    void check();
    pollTimer ??= setInterval(check, POLL_MS);
  }

  function reconnect() {
    source?.abort();
    source = undefined; // the aborted read ends quietly instead of calling here again
    clearTimeout(retryTimer);
    retryTimer = setTimeout(open, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    fallBack();
  }

  /** One `event:`/`data:` block of the stream. */
  function deliver(block) {
    const name = /^event: (.*)$/m.exec(block)?.[1];
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n');
    if (!EVENTS.includes(name) || !data) return;
    lastFrame = Date.now();
    const m = JSON.parse(data);
    if (name === 'hello') {
      heartbeatMs = m.heartbeatMs;
      retryMs = 1000;
      clearInterval(pollTimer);
      pollTimer = undefined;
    }
    onMessage(name, m);
    if (name === 'hello') set('live');
  }

  async function open() {
    if (stopped) return;
    const ctl = (source = new AbortController());
    try {
      const res = await fetch('/api/v1/events/stream', {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        cache: 'no-store',
        signal: ctl.signal,
      });
      if (res.status === 401 || res.status === 403) {
        stop();
        return onStatus('refused'); // a token no longer valid: asking again will not help
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          deliver(buf.slice(0, i));
          buf = buf.slice(i + 2);
        }
      }
    } catch {
      // the network, the gateway going away, or our own abort: the same way back
    }
    if (!stopped && ctl === source) reconnect();
  }

  const watchdog = setInterval(() => {
    if (status === 'live' && Date.now() - lastFrame > 3 * heartbeatMs) reconnect();
  }, 1000);

  function stop() {
    stopped = true;
    source?.abort();
    clearTimeout(retryTimer);
    clearInterval(pollTimer);
    clearInterval(watchdog);
  }

  open();
  return { stop, isLive: () => status === 'live' };
}
