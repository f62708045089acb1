// Gate buttons: ask, confirm, send, then follow the command to its end.

const FINAL = new Set(['confirmed', 'failed']);
const $ = (id) => document.getElementById(id);
const label = (action) => action.replace(/-/g, ' ');
const newRequestId = () =>
  `page-${Date.now().toString(36)}-${Math.floor(Math.random() * 2 ** 32).toString(36)}`;

export class Gate {
  constructor({ api, words, isLive }) {
    Object.assign(this, { api, words, isLive });
    this.allowed = false;
    this.enabled = true;
    this.cards = new Map();
    this.pending = undefined;
    $('confirm').addEventListener('close', () => {
      if ($('confirm').returnValue === 'go' && this.pending) void this.send(this.pending);
      this.pending = undefined;
    });
  }

  /** Whether this token may command (platform, admin); a reader gets no buttons at all. */
  setRole(allowed) {
    this.allowed = allowed;
    this.cards.clear();
  }

  /** Buttons off while the page cannot tell the gate's real state. */
  setEnabled(enabled) {
    this.enabled = enabled;
    for (const id of this.cards.keys()) this.refreshButtons(id);
  }

  /** The buttons and progress line of a barrier's card (nothing for a reader). */
  controls(d) {
    if (!this.allowed) return [];
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.setAttribute('role', 'group');
    actions.setAttribute('aria-label', `gate commands for ${d.id}`);
    for (const [action] of this.words.actions()) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `act act-${action}`;
      b.dataset.action = action;
      b.textContent = label(action);
      b.addEventListener('click', () => this.ask(d.id, action));
      actions.append(b);
    }
    const progress = document.createElement('p');
    progress.className = 'progress';
    progress.setAttribute('aria-live', 'polite');
    progress.hidden = true;
    this.cards.set(d.id, { actions, progress, device: d, command: undefined, timer: undefined });
    return [actions, progress];
  }

  /** A new view of the barrier: keep it for the dialog's words. */
  show(d) {
    const card = this.cards.get(d.id);
    if (card) card.device = d;
  }

  refreshButtons(id) {
    const card = this.cards.get(id);
    const busy = ['sending', 'accepted', 'executing'].includes(card.command?.state);
    for (const b of card.actions.children) b.disabled = !this.enabled || Boolean(busy);
  }

  ask(id, action) {
    const d = this.cards.get(id)?.device;
    if (!d) return;
    const where = [d.lane && `lane ${d.lane}`, d.site].filter(Boolean).join(', ');
    $('confirm-title').textContent = `${label(action)} ${d.id}${where ? ` (${where})` : ''}?`;
    const meaning = this.words.actions().find(([a]) => a === action)?.[1] ?? '';
    $('confirm-words').textContent = `This will ${meaning}.`;
    $('confirm-hold').hidden = action !== 'hold-open';
    $('confirm-reason').value ||= 'crew at the gate';
    $('confirm-go').textContent = `Yes, ${label(action)}`;
    this.pending = { id, action };
    // Escape closes without a button: the last answer must not count as this one's.
    $('confirm').returnValue = '';
    $('confirm').showModal();
  }

  async send({ id, action }) {
    const card = this.cards.get(id);
    const hold = Number($('hold-seconds').value);
    const body = {
      requestId: newRequestId(),
      action,
      reason: $('confirm-reason').value.trim() || 'crew at the gate',
    };
    if (action === 'hold-open' && hold > 0) body.holdSeconds = hold;
    card.command = { requestId: body.requestId, action, state: 'sending', history: [] };
    this.draw(id);
    // The same requestId never actuates twice: resending after a lost answer is safe.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const res = await this.api(`/api/v1/barriers/${encodeURIComponent(id)}/commands`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const answer = await res.json();
        if (!res.ok) {
          card.command = {
            ...card.command,
            state: 'refused',
            message: answer.message ?? `HTTP ${res.status}`,
          };
          return this.draw(id);
        }
        return this.update(answer);
      } catch {
        await new Promise((r) => setTimeout(r, 1500));
      }
    }
    card.command = {
      ...card.command,
      state: 'refused',
      message: 'the gateway did not answer: the command may or may not have gone through — look at the arm',
    };
    this.draw(id);
  }

  /** A command record (the stream's `command` event, or an answer): show it if it is ours. */
  update(rec) {
    const card = this.cards.get(rec.device);
    const mine = card?.command;
    if (!mine || mine.requestId !== rec.requestId) return;
    // The POST's answer can arrive after the stream told a later step.
    if (mine.history.length > rec.history.length) return;
    card.command = rec;
    clearTimeout(card.timer);
    // Without the stream, ask for the record until it ends.
    if (!FINAL.has(rec.state) && !this.isLive()) card.timer = setTimeout(() => this.follow(rec.id), 1000);
    this.draw(rec.device);
  }

  async follow(commandId) {
    try {
      const res = await this.api(`/api/v1/commands/${encodeURIComponent(commandId)}`);
      if (res.ok) return this.update(await res.json());
    } catch {
      // asked again below
    }
    const card = [...this.cards.values()].find((c) => c.command?.id === commandId);
    if (card) card.timer = setTimeout(() => this.follow(commandId), 2000);
  }

  draw(id) {
    const card = this.cards.get(id);
    const c = card.command;
    const p = card.progress;
    p.hidden = false;
    if (c.state === 'sending') {
      p.className = 'progress pending';
      p.textContent = `${label(c.action)}: sending…`;
    } else if (c.state === 'refused') {
      p.className = 'progress failed';
      p.textContent = `${label(c.action)} not accepted: ${c.message}`;
    } else {
      const steps = c.history.map((h) => h.state).join(' → ');
      p.className = `progress ${c.state === 'confirmed' ? 'confirmed' : c.state === 'failed' ? 'failed' : 'pending'}`;
      const why = c.failure
        ? ` (${c.failure}): ${this.words.failure(c.failure) || 'see the gateway log'}`
        : '';
      p.textContent = `${label(c.action)}: ${steps}${why}`;
    }
    p.dataset.state = c.state;
    this.refreshButtons(id);
  }
}
