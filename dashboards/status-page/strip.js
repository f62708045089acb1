// The strip on top: the gateway itself (storage, uplink, disk, broker) and the sites.

/** Under this much free space the spool and the audit log are at risk. */
const DISK_LOW_PCT = 10;

const bytes = (n) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(1)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : `${Math.round(n / 1e3)} kB`;
const count = (n) => n.toLocaleString();

function chip(what, text, tone) {
  const p = document.createElement('p');
  p.className = `chip ${tone}`;
  const k = document.createElement('span');
  k.className = 'k';
  k.textContent = what;
  p.append(k, ` ${text}`);
  return p;
}

function storage(s) {
  const dropped = s.pointsDropped > 0 ? ` · ${count(s.pointsDropped)} points dropped` : '';
  if (s.status === 'connected') {
    const catching = s.spoolPoints > 0 ? ` · catching up ${count(s.spoolPoints)} points` : '';
    return chip(s.sink, `writing${catching}${dropped}`, dropped ? 'warn' : 'ok');
  }
  if (s.status === 'spooling') {
    // Also what a gateway without an InfluxDB URL does: the spool is replayed once there is one.
    return chip(s.sink, `not writing — ${count(s.spoolPoints)} points kept on disk${dropped}`, 'bad');
  }
  return chip(s.sink, `${s.status}${dropped}`, 'warn');
}

/** GET /api/v1/gateway (or the stream's `gateway` event) as a row of chips, problems in colour. */
export function showGateway(section, g) {
  const chips = g.storage.map(storage);
  if (g.uplink) {
    const u = g.uplink;
    chips.push(
      u.status === 'connected'
        ? chip('uplink', 'connected', 'ok')
        : chip('uplink', `down — ${bytes(u.queueBytes)} queued for the town`, 'bad'),
    );
  }
  if (g.disk) {
    const low = g.disk.freePct < DISK_LOW_PCT;
    chips.push(
      chip(
        'disk',
        `${bytes(g.disk.freeBytes)} free (${g.disk.freePct} %)${low ? ' — filling up' : ''}`,
        low ? 'bad' : 'ok',
      ),
    );
  } else chips.push(chip('disk', 'unknown', 'warn'));
  chips.push(chip('MQTT', `${g.broker.clients} ${g.broker.clients === 1 ? 'client' : 'clients'}`, 'ok'));
  section.replaceChildren(...chips);
}

/** Cars inside each parking site, counted by its barriers. */
export async function showSites(p, api) {
  try {
    const res = await api('/api/v1/sites');
    if (!res.ok) return;
    const { sites } = await res.json();
    p.textContent = sites
      .map((s) => `${s.site}: ${s.occupancy} inside${s.free !== undefined ? ` · ${s.free} free` : ''}`)
      .join('   ');
  } catch {
    // the board already says when the gateway is unreachable
  }
}
