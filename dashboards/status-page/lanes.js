// The board: sites, their lanes (a barrier and its probe each), recent events.
import { Thumbs } from './thumbs.js';

const ORDER = { offline: 0, degraded: 1, online: 2 };
const KIND = { barrier: 0, probe: 1 };
const LANE_EVENTS = 3;
const VILLAGE_EVENTS = 12;
const RECENT = 20;

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

/** "5 s", "3 min", "2 h": how long a device has been in its state, read at a glance. */
function ago(since) {
  const s = Math.max(0, Math.round((Date.now() - new Date(since).getTime()) / 1000));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

const yes = (v, on, off) => (v === undefined ? undefined : v ? on : off);

function facts(d) {
  const f = d.fields ?? {};
  const rows = [];
  if (d.kind === 'barrier') {
    if (f.arm_state)
      rows.push([
        'arm',
        f.arm_angle_deg === undefined ? f.arm_state : `${f.arm_state} (${Math.round(f.arm_angle_deg)}°)`,
      ]);
    rows.push(['loop', yes(f.loop_occupied, 'car present', 'clear')]);
    rows.push(['photo-eye', yes(f.photo_eye_blocked, 'blocked', 'clear')]);
    if (f.vehicles_in !== undefined) rows.push(['in / out', `${f.vehicles_in} / ${f.vehicles_out ?? '?'}`]);
    if (f.cycles !== undefined) rows.push(['cycles', f.cycles]);
    if (f.fault_code) rows.push(['fault code', f.fault_code]);
  } else {
    if (f.ir_mode) rows.push(['IR', f.ir_mode]);
    rows.push(['day / night', yes(f.night, 'night', 'day')]);
    if (f.snapshot_luma !== undefined) rows.push(['brightness', Math.round(f.snapshot_luma)]);
    if (f.clock_skew_s !== undefined) rows.push(['clock skew', `${Math.round(f.clock_skew_s)} s`]);
    rows.push(['stream', yes(f.stream_ok, 'ok', 'not answering')]);
  }
  if (d.site || d.lane) rows.push(['where', [d.site, d.lane].filter(Boolean).join(' / ')]);
  return rows.filter(([, v]) => v !== undefined);
}

const worst = (devices) => devices.reduce((w, d) => Math.min(w, ORDER[d.health.status]), 2);
const timeOf = (t) =>
  new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** A list of events, newest first: time, device, what happened. */
function fillEvents(box, events, withDevice) {
  box.replaceChildren(
    ...events.map((e) => {
      const row = el('div', 'event');
      row.setAttribute('role', 'listitem');
      row.append(el('time', '', timeOf(e.time)), ` ${withDevice ? `${e.device} · ` : ''}${e.detail}`);
      return row;
    }),
  );
}

export class Board {
  constructor({ root, events, words, gate, api }) {
    Object.assign(this, { root, villageEvents: events, words, gate });
    this.devices = new Map();
    this.items = new Map();
    this.lanes = new Map();
    this.sites = new Map();
    this.thumbs = new Thumbs(api);
    this.timer = undefined;
  }

  clear() {
    this.devices.clear();
    this.root.replaceChildren();
    this.items.clear();
    this.lanes.clear();
    this.sites.clear();
  }

  /** The whole picture: a stream's `hello`, or one poll of GET /api/v1/devices. */
  load({ devices }) {
    this.devices = new Map(devices.map((d) => [d.id, d]));
    this.render();
    for (const d of devices) if (d.kind === 'probe') this.thumbs.refresh(d.id);
  }

  /** One update from the stream. */
  apply(name, m) {
    const d = this.devices.get(m.device);
    if (!d) return;
    if (name === 'state') {
      d.fields = { ...d.fields, ...m.fields };
      for (const k of m.unknown ?? []) delete d.fields[k]; // no valid reading now: show none
    } else if (name === 'health')
      Object.assign(d, { health: m.health, errors: m.errors, features: m.features });
    else if (name === 'event') d.recentEvents = [m, ...(d.recentEvents ?? [])].slice(0, RECENT);
    else if (name === 'snapshot') return this.thumbs.refresh(m.device, m.etag);
    this.schedule();
  }

  /** Updates come several a second: draw at most four times a second. */
  schedule() {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, 250);
  }

  render() {
    const all = [...this.devices.values()];
    const bad = all.filter((d) => d.health.status !== 'online').length;
    const summary = document.getElementById('summary');
    if (!document.body.classList.contains('stale')) {
      summary.textContent = `${all.length} devices · ${bad === 0 ? 'all online' : `${bad} ${bad === 1 ? 'needs' : 'need'} attention`}`;
      summary.className = bad === 0 ? 'good' : 'bad';
    }
    const onlyProblems = document.getElementById('problems-only').checked;
    const bySite = new Map();
    for (const d of all) {
      const site = d.site ?? '';
      const lanes = bySite.get(site) ?? new Map();
      bySite.set(site, lanes);
      const lane = d.lane ?? '';
      lanes.set(lane, [...(lanes.get(lane) ?? []), d]);
    }
    const siteOrder = [...bySite].sort(
      ([a, la], [b, lb]) =>
        worst([...la.values()].flat()) - worst([...lb.values()].flat()) || a.localeCompare(b),
    );
    const shownSites = [];
    for (const [site, lanes] of siteOrder) {
      const laneOrder = [...lanes].sort(([a, da], [b, db]) => worst(da) - worst(db) || a.localeCompare(b));
      const cards = [];
      for (const [lane, devices] of laneOrder) {
        const shown = devices
          .filter((d) => !onlyProblems || d.health.status !== 'online')
          .sort((a, b) => KIND[a.kind] - KIND[b.kind] || a.id.localeCompare(b.id));
        if (shown.length > 0) cards.push(this.lane(site, lane, devices, shown));
      }
      if (cards.length > 0) shownSites.push(this.site(site, cards));
    }
    place(this.root, shownSites);
    const village = all.flatMap((d) => (d.recentEvents ?? []).map((e) => ({ ...e, device: d.id })));
    village.sort((a, b) => b.time - a.time);
    this.villageEvents.hidden = village.length === 0;
    fillEvents(this.villageEvents.querySelector('.events'), village.slice(0, VILLAGE_EVENTS), true);
    document.getElementById('updated').textContent = new Date().toLocaleTimeString();
  }

  site(site, cards) {
    let s = this.sites.get(site);
    if (!s) {
      s = el('section', 'site');
      const h = el('h2', '', site || 'devices');
      h.id = `site-${site || 'none'}`;
      s.setAttribute('aria-labelledby', h.id);
      s.append(h, el('div', 'lanes'));
      this.sites.set(site, s);
    }
    place(s.querySelector('.lanes'), cards);
    return s;
  }

  lane(site, lane, devices, shown) {
    const key = `${site}/${lane}`;
    let card = this.lanes.get(key);
    if (!card) {
      card = el('article', 'lane');
      card.dataset.lane = key;
      const h = el('h3', '', lane || 'not on a lane');
      if (lane) h.prepend(el('span', 'k', 'lane '));
      card.append(h, el('ul', 'devs'), el('div', 'events'));
      card.querySelector('.events').setAttribute('role', 'list');
      card.querySelector('.events').setAttribute('aria-label', `recent events, ${lane || 'no lane'}`);
      this.lanes.set(key, card);
    }
    card.className = `lane ${['offline', 'degraded', 'online'][worst(devices)]}`;
    place(
      card.querySelector('.devs'),
      shown.map((d) => this.device(d)),
    );
    const events = devices.flatMap((d) => (d.recentEvents ?? []).map((e) => ({ ...e, device: d.id })));
    events.sort((a, b) => b.time - a.time);
    fillEvents(card.querySelector('.events'), events.slice(0, LANE_EVENTS), true);
    return card;
  }

  device(d) {
    let li = this.items.get(d.id);
    if (!li) {
      li = el('li');
      li.dataset.device = d.id;
      li.append(el('div', 'name'), el('span', 'status'), el('span', 'reason'), el('div', 'meta'), el('dl'));
      // The picture first, floated beside the words: a lane fits on one screen.
      if (d.kind === 'probe') li.firstChild.after(this.thumbs.figure(d.id));
      if (d.kind === 'probe') li.append(el('p', 'features'));
      if (d.kind === 'barrier') li.append(...this.gate.controls(d));
      this.items.set(d.id, li);
    }
    const h = d.health;
    li.className = `${h.status} ${d.kind}`;
    li.querySelector('.name').textContent = d.name ? `${d.name} (${d.id})` : d.id;
    li.querySelector('.status').textContent = h.status;
    const words = this.words.reason(h.reason);
    li.querySelector('.reason').textContent = words ? `${h.reason}: ${words}` : (h.reason ?? '');
    li.querySelector('.meta').textContent =
      `${d.kind} · ${h.status} for ${ago(h.since)} (since ${new Date(h.since).toLocaleTimeString()})`;
    const dl = li.querySelector('dl');
    dl.replaceChildren(...facts(d).flatMap(([k, v]) => [el('dt', '', k), el('dd', '', String(v))]));
    // An offline device's readings are from before it went away: say so, don't pass them off as now.
    const caption = li.querySelector('.last-known');
    if (h.status === 'offline' && dl.childElementCount > 0) {
      if (!caption) dl.before(el('p', 'last-known', 'last known readings:'));
    } else caption?.remove();
    if (d.kind === 'probe') this.features(li.querySelector('.features'), d);
    if (d.kind === 'barrier') this.gate.show(d);
    return li;
  }

  /** What the camera lacks is not a fault: said apart from what failed. */
  features(p, d) {
    const lacks = Object.entries(d.features ?? {}).filter(([, s]) => s === 'unsupported');
    const failed = Object.entries(d.health.checks ?? {}).filter(([, c]) => c.status === 'failed');
    const parts = [];
    if (lacks.length) parts.push(`camera lacks: ${lacks.map(([f]) => f).join(', ')} (not a fault)`);
    for (const [name, c] of failed)
      parts.push(`${name} failed${c.reason ? `: ${this.words.reason(c.reason) || c.reason}` : ''}`);
    p.textContent = parts.join(' · ');
    p.hidden = parts.length === 0;
  }
}

/** Put `children` in `parent` in this order, moving only what is out of place (a moved button loses a tap). */
function place(parent, children) {
  children.forEach((c, i) => {
    if (parent.children[i] !== c) parent.insertBefore(c, parent.children[i] ?? null);
  });
  while (parent.children.length > children.length) parent.lastElementChild.remove();
}
