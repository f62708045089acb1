// The crew's status page: one list, problems first, plain words for every reason.
const ORDER = { offline: 0, degraded: 1, online: 2 };

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

/**
 * The words for each health reason come from the gateway (its one table, in the device
 * contract), fetched once; until they arrive a reason shows as its name alone.
 */
let vocabulary;
async function loadVocabulary() {
  if (vocabulary) return;
  try {
    const res = await fetch('/status/vocabulary.json');
    if (res.ok) vocabulary = await res.json();
  } catch {
    // the next refresh asks again
  }
}

function explain(reason) {
  if (!reason || !vocabulary) return '';
  if (Object.hasOwn(vocabulary.healthReasons, reason)) return vocabulary.healthReasons[reason];
  const family = vocabulary.healthReasonFamilies.find((f) => reason.startsWith(f.prefix));
  return family ? family.words.replaceAll(`{${family.param}}`, reason.slice(family.prefix.length)) : '';
}

/** "5 s", "3 min", "2 h": how long a device has been in its state, read at a glance. */
function ago(since) {
  const s = Math.max(0, Math.round((Date.now() - new Date(since).getTime()) / 1000));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function facts(d) {
  const f = d.fields ?? {};
  const rows = [];
  if (d.kind === 'barrier') {
    if (f.arm_state) rows.push(['arm', f.arm_state]);
    if (f.loop_occupied !== undefined) rows.push(['loop', f.loop_occupied ? 'car present' : 'clear']);
    if (f.vehicles_in !== undefined) rows.push(['in / out', `${f.vehicles_in} / ${f.vehicles_out ?? '?'}`]);
  } else {
    if (f.ir_mode) rows.push(['IR', `${f.ir_mode}${f.night ? ' (night)' : ''}`]);
    if (f.snapshot_luma !== undefined) rows.push(['brightness', Math.round(f.snapshot_luma)]);
    if (f.clock_skew_s !== undefined) rows.push(['clock skew', `${Math.round(f.clock_skew_s)} s`]);
  }
  if (d.site || d.lane) rows.push(['where', [d.site, d.lane].filter(Boolean).join(' / ')]);
  return rows;
}

function render(data) {
  $('village').textContent = data.village;
  const devices = [...data.devices].sort(
    (a, b) => ORDER[a.health.status] - ORDER[b.health.status] || a.id.localeCompare(b.id),
  );
  const bad = devices.filter((d) => d.health.status !== 'online').length;
  $('summary').textContent =
    `${devices.length} devices · ${bad === 0 ? 'all online' : `${bad} ${bad === 1 ? 'needs' : 'need'} attention`}`;
  $('summary').className = bad === 0 ? 'good' : 'bad';
  document.body.classList.remove('stale');
  const onlyProblems = $('problems-only').checked;
  const list = $('devices');
  list.replaceChildren();
  for (const d of devices) {
    if (onlyProblems && d.health.status === 'online') continue;
    const li = document.createElement('li');
    li.className = d.health.status;
    li.dataset.device = d.id;
    const name = document.createElement('div');
    name.className = 'name';
    name.textContent = d.name ? `${d.name} (${d.id})` : d.id;
    const status = document.createElement('span');
    status.className = 'status';
    status.textContent = d.health.status;
    const reason = document.createElement('span');
    reason.className = 'reason';
    const words = explain(d.health.reason);
    reason.textContent = words ? `${d.health.reason}: ${words}` : (d.health.reason ?? '');
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = `${d.kind} · ${d.health.status} for ${ago(d.health.since)} (since ${new Date(d.health.since).toLocaleTimeString()})`;
    const dl = document.createElement('dl');
    for (const [k, v] of facts(d)) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = String(v);
      dl.append(dt, dd);
    }
    li.append(name, status, reason, meta);
    // An offline device's readings are from before it went away: say so, don't pass them off as now.
    if (d.health.status === 'offline' && dl.childElementCount > 0) {
      const caption = document.createElement('p');
      caption.className = 'last-known';
      caption.textContent = 'last known readings:';
      li.append(caption);
    }
    li.append(dl);
    list.append(li);
  }
  $('updated').textContent = new Date().toLocaleTimeString();
}

/** Signed out: the form only (a filter over nothing would just confuse). */
function signIn(message, tone) {
  $('login').hidden = false;
  $('board').hidden = true;
  $('summary').textContent = message;
  $('summary').className = tone;
}

let last;
/** Cars inside each parking site, counted by its barriers. */
async function showSites() {
  try {
    const res = await fetch('/api/v1/sites', { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) return;
    const { sites } = await res.json();
    $('sites').textContent = sites
      .map((s) => `${s.site}: ${s.occupancy} inside${s.free !== undefined ? ` · ${s.free} free` : ''}`)
      .join('   ');
  } catch {
    // the device list already says when the gateway is unreachable
  }
}

async function refresh() {
  if (!token) {
    signIn('sign in to see devices', '');
    return;
  }
  try {
    const res = await fetch('/api/v1/devices', { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem(KEY);
      localStorage.removeItem(KEY);
      token = '';
      signIn('that token was not accepted', 'bad');
      return;
    }
    $('login').hidden = true;
    $('board').hidden = false;
    last = await res.json();
    await loadVocabulary();
    render(last);
    void showSites();
  } catch {
    $('summary').textContent = 'gateway not reachable — retrying';
    $('summary').className = 'bad';
    // What is still on screen is old: grey it out rather than let it look current.
    document.body.classList.add('stale');
  }
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  keepToken(token, $('stay').checked);
  void refresh();
});
$('problems-only').addEventListener('change', () => last && render(last));
void refresh();
setInterval(refresh, 2000);
