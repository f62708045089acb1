// Probe pictures, from the gateway's cache (a phone never makes the camera take one).

/** On a weak link a picture is the heavy part: at most one per probe this often, unless tapped. */
const MIN_MS = 10_000;

const dataUrl = (blob) =>
  new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });

export class Thumbs {
  constructor(api) {
    this.api = api;
    this.probes = new Map();
    // A phone in a pocket fetches nothing; back in hand, it catches up.
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) for (const id of this.probes.keys()) this.refresh(id);
    });
  }

  /** The picture's place in a probe's card: tap it for a fresh one. */
  figure(id) {
    const fig = document.createElement('figure');
    fig.className = 'thumb';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'thumb-button';
    button.setAttribute('aria-label', `picture from ${id}; tap to refresh`);
    const img = document.createElement('img');
    img.alt = `latest picture from ${id}`;
    img.width = 320;
    img.height = 180;
    img.hidden = true;
    button.append(img);
    const caption = document.createElement('figcaption');
    caption.textContent = 'no picture yet';
    fig.append(button, caption);
    const p = { img, caption, etag: '', wanted: '', busy: false, last: 0, timer: undefined };
    this.probes.set(id, p);
    button.addEventListener('click', () => {
      p.last = 0;
      this.refresh(id);
    });
    return fig;
  }

  /** Fetch the picture if it changed (`etag` from the stream; absent: ask). */
  refresh(id, etag) {
    const p = this.probes.get(id);
    if (!p || (etag && etag === p.etag)) return;
    if (etag) p.wanted = etag;
    clearTimeout(p.timer);
    const wait = p.last + MIN_MS - Date.now();
    if (wait > 0 || p.busy || document.hidden) {
      p.timer = setTimeout(() => this.refresh(id), Math.max(wait, 1000));
      return;
    }
    void this.fetch(id, p);
  }

  async fetch(id, p) {
    p.busy = true;
    p.last = Date.now();
    try {
      // A conditional request: 304 while the picture is the one already shown.
      const headers = p.etag ? { 'if-none-match': p.etag } : {};
      const res = await this.api(`/api/v1/probes/${encodeURIComponent(id)}/snapshot`, { headers });
      if (res.status === 304) return;
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        p.caption.textContent = `no fresh picture${body.reason ? ` (${body.reason})` : ''}`;
        p.img.classList.add('old');
        return;
      }
      p.etag = res.headers.get('etag') ?? '';
      p.img.src = await dataUrl(await res.blob());
      p.img.hidden = false;
      p.img.classList.remove('old');
      const taken = res.headers.get('x-snapshot-time');
      const at = taken ? new Date(taken).toLocaleTimeString() : 'just now';
      p.img.alt = `latest picture from ${id}, taken ${at}`;
      p.caption.textContent = `taken ${at}`;
    } catch {
      p.caption.textContent = 'no fresh picture (gateway not reachable)';
    } finally {
      p.busy = false;
      if (p.wanted && p.wanted !== p.etag) this.refresh(id);
    }
  }
}
