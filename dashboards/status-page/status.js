// The crew's status page: gate by gate, problems first, plain words for every reason,
// live over one event stream. This module signs in and wires the parts together.
import { Board } from './lanes.js';
import { Gate } from './gate.js';
import { startLive } from './live.js';
import { showGateway, showSites } from './strip.js';

const $ = (id) => document.getElementById(id);
// The token lasts as long as this tab, unless the crew ticked "stay signed in" on this phone.
const KEY = 'gatehouse-token';
function keepToken(value, stay) {
  (stay ? localStorage : sessionStorage).setItem(KEY, value);
  (stay ? sessionStorage : localStorage).removeItem(KEY);
}
const params = new URLSearchParams(location.hash.slice(1));
if (params.get('token')) {
  keepToken(params.get('token'), false);
  history.replaceState(null, '', location.pathname);
}
let token = sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY) ?? '';

const api = (path, init = {}) =>
  fetch(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });

/**
 * The words for each health reason, gate command and command failure come from the
 * gateway (its one table of each), fetched once; until they arrive a reason shows as
 * its name alone.
 */
let vocabulary;
async function loadVocabulary() {
  if (vocabulary) return;
  try {
    const res = await fetch('/status/vocabulary.json');
    if (res.ok) vocabulary = await res.json();
  } catch {
    // the next sign-in asks again
  }
}

const words = {
  reason(reason) {
    if (!reason || !vocabulary) return '';
    if (Object.hasOwn(vocabulary.healthReasons, reason)) return vocabulary.healthReasons[reason];
    const family = vocabulary.healthReasonFamilies.find((f) => reason.startsWith(f.prefix));
    return family ? family.words.replaceAll(`{${family.param}}`, reason.slice(family.prefix.length)) : '';
  },
  failure(failure) {
    const known = vocabulary?.commandFailures.find((f) => new RegExp(f.pattern).test(failure));
    return known ? known.words : '';
  },
  actions: () => Object.entries(vocabulary?.barrierActions ?? {}),
};

let live;
const gate = new Gate({ api, words, isLive: () => live?.isLive() ?? false });
const board = new Board({ root: $('devices'), events: $('village-events'), words, gate, api });

/** Signed out: the form only (a filter over nothing would just confuse). */
function signIn(message, tone) {
  live?.stop();
  live = undefined;
  $('login').hidden = false;
  $('board').hidden = true;
  $('gateway').hidden = true;
  $('live').textContent = '';
  $('summary').textContent = message;
  $('summary').className = tone;
}

function refused() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
  token = '';
  board.clear();
  signIn('that token was not accepted', 'bad');
}

function unreachable() {
  $('summary').textContent = 'gateway not reachable — retrying';
  $('summary').className = 'bad';
  // What is still on screen is old: grey it out rather than let it look current.
  document.body.classList.add('stale');
}

/** The fallback while the stream is down: one read of the API. */
async function poll() {
  try {
    const [res, gw] = await Promise.all([api('/api/v1/devices'), api('/api/v1/gateway')]);
    if (res.status === 401 || res.status === 403) return 'refused';
    if (!res.ok) return 'unreachable';
    board.load(await res.json());
    if (gw.ok) showGateway($('gateway'), await gw.json());
    void showSites($('sites'), api);
    return 'ok';
  } catch {
    return 'unreachable';
  }
}

const LIVE_WORDS = {
  live: 'live',
  polling: 'live updates interrupted — refreshing every few seconds',
  stale: 'no update for a while — reconnecting…',
};

function onStatus(status) {
  if (status === 'refused') return refused();
  if (status === 'unreachable') unreachable();
  else if (status === 'stale') document.body.classList.add('stale');
  else {
    document.body.classList.remove('stale');
    board.render();
  }
  $('live').textContent = LIVE_WORDS[status] ?? '';
  $('live').className = `live ${status}`;
  gate.setEnabled(status === 'live' || status === 'polling');
}

function onMessage(name, data) {
  if (name === 'hello') {
    $('village').textContent = data.village;
    board.load(data);
    showGateway($('gateway'), data.gateway);
    void showSites($('sites'), api);
  } else if (name === 'gateway') showGateway($('gateway'), data);
  else if (name === 'command') gate.update(data);
  else board.apply(name, data);
  if (name === 'event' && data.type.startsWith('passage')) void showSites($('sites'), api);
  $('updated').textContent = new Date().toLocaleTimeString();
}

async function start() {
  if (!token) return signIn('sign in to see devices', '');
  let me;
  try {
    const res = await api('/api/v1/whoami');
    if (res.status === 401 || res.status === 403) return refused();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    me = await res.json();
  } catch {
    unreachable();
    setTimeout(start, 3000);
    return;
  }
  await loadVocabulary();
  $('login').hidden = true;
  $('board').hidden = false;
  $('gateway').hidden = false;
  // Buttons only for a role the API lets command; the API refuses a reader anyway.
  board.clear();
  gate.setRole(me.role === 'platform' || me.role === 'admin');
  live = startLive({ token, onMessage, onStatus, poll });
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  keepToken(token, $('stay').checked);
  void start();
});
$('problems-only').addEventListener('change', () => board.render());
void start();
