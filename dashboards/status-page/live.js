// One server-sent-events stream for the whole page, and what to do when it breaks.

const EVENTS = ['hello', 'state', 'health', 'event', 'command', 'snapshot', 'gateway'];
const POLL_MS = 5000;
const MAX_RETRY_MS = 30_000;

/**
 * Live updates over GET /api/v1/events/stream. EventSource cannot send an Authorization
 * header, so the token goes in the query (that route alone takes it there). Each
 * connection starts with `hello`, the whole picture, so a reconnect needs no replay.
 *
 * The stream says it is alive with a `gateway` event every heartbeatMs; three missed
 * means stale. While the stream is down the page asks the API itself every POLL_MS
 * (`poll` answers ok, refused or unreachable), so what is on screen is either current
 * or visibly marked as old.
 *
 * onStatus gets: live, polling (stream down, API answers), stale, unreachable, refused.
 */
export function startLive({ token, onMessage, onStatus, poll }) {
  let source;
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
    source?.close();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(open, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    fallBack();
  }

  function open() {
    if (stopped) return;
    if (typeof EventSource === 'undefined') return fallBack();
    source = new EventSource(`/api/v1/events/stream?token=${encodeURIComponent(token)}`);
    for (const name of EVENTS) {
      source.addEventListener(name, (e) => {
        lastFrame = Date.now();
        const data = JSON.parse(e.data);
        if (name === 'hello') {
          heartbeatMs = data.heartbeatMs;
          retryMs = 1000;
          clearInterval(pollTimer);
          pollTimer = undefined;
        }
        onMessage(name, data);
        if (name === 'hello') set('live');
      });
    }
    source.onerror = () => {
      // CLOSED: refused outright (a token no longer valid, a proxy); else the browser retries itself.
      if (source.readyState === EventSource.CLOSED) reconnect();
      else fallBack();
    };
  }

  const watchdog = setInterval(() => {
    if (status === 'live' && Date.now() - lastFrame > 3 * heartbeatMs) reconnect();
  }, 1000);

  function stop() {
    stopped = true;
    source?.close();
    clearTimeout(retryTimer);
    clearInterval(pollTimer);
    clearInterval(watchdog);
  }

  open();
  return { stop, isLive: () => status === 'live' };
}
