import { randomBytes } from 'node:crypto';
import type { CameraState, SimEvent } from './state.ts';
import { SoapFault, faults } from './soap/envelope.ts';
import { esc, isoSeconds } from './soap/xml.ts';

export const SUBSCRIPTION_PATH_PREFIX = '/onvif/Events/PullSubManager_';
const MAX_SUBSCRIPTIONS = 20;
const MAX_QUEUE = 200;
/** What the event-backlog fault keeps queued. */
export const BACKLOG = 1000;
const DEFAULT_TERMINATION_MS = 60_000;
const TOPIC_DIALECT = 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet';

interface Notification {
  event: SimEvent;
  utcMs: number;
  operation: 'Initialized' | 'Changed';
  /** Made up by the event-backlog fault, dropped when it ends. */
  backlog?: true;
}

export interface Subscription {
  id: string;
  /** Real (not camera) time after which the subscription is gone. */
  terminationMs: number;
  queue: Notification[];
  filters: string[];
  wake?: () => void;
}

/**
 * Pull-point subscriptions (ONVIF Events §9.1): each has its own manager path, a queue
 * and a termination time. PullMessages long-polls. Expired subscriptions, and all of
 * them after a reboot, answer with a ResourceUnknown fault.
 */
export class SubscriptionManager {
  private readonly subs = new Map<string, Subscription>();
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly state: CameraState) {
    state.on('event', (e) => this.publish(e, 'Changed'));
    state.on('reboot', () => this.dropAll());
    this.sweep = setInterval(() => this.expire(), 500);
    this.sweep.unref();
  }

  get count(): number {
    return this.subs.size;
  }

  create(terminationMs: number | undefined, filters: string[]): Subscription {
    this.expire();
    if (this.subs.size >= MAX_SUBSCRIPTIONS) {
      throw new SoapFault('Receiver', 'ter:Action', 'Too many pull points', 'ter:TooManySubscriptions');
    }
    const sub: Subscription = {
      id: randomBytes(8).toString('hex'),
      terminationMs: terminationMs ?? Date.now() + DEFAULT_TERMINATION_MS,
      queue: [],
      filters,
    };
    this.subs.set(sub.id, sub);
    this.initialize(sub);
    return sub;
  }

  /** The live subscription for a manager path, or a ResourceUnknown fault. */
  get(id: string): Subscription {
    const sub = this.subs.get(id);
    if (!sub || sub.terminationMs <= Date.now()) {
      if (sub) this.drop(sub);
      throw faults.resourceUnknown(`Subscription ${id} is unknown or has expired`);
    }
    return sub;
  }

  renew(sub: Subscription, terminationMs: number): void {
    sub.terminationMs = terminationMs;
  }

  unsubscribe(sub: Subscription): void {
    this.drop(sub);
  }

  /** SetSynchronizationPoint: send the current value of every property again. */
  initialize(sub: Subscription): void {
    const now = this.state.nowMs();
    for (const event of this.state.propertySnapshot())
      this.enqueue(sub, { event, utcMs: now, operation: 'Initialized' });
  }

  /**
   * Wait until the subscription has messages, `timeoutMs` passes, the subscription ends
   * or the client goes away; then take up to `limit` messages.
   */
  async pull(
    sub: Subscription,
    timeoutMs: number,
    limit: number,
    aborted: AbortSignal,
  ): Promise<Notification[]> {
    if (sub.queue.length === 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          aborted.removeEventListener('abort', done);
          if (sub.wake === done) delete sub.wake;
          resolve();
        };
        const t = setTimeout(done, timeoutMs);
        sub.wake?.();
        sub.wake = done;
        aborted.addEventListener('abort', done);
      });
    }
    if (!this.subs.has(sub.id)) throw faults.resourceUnknown(`Subscription ${sub.id} ended while pulling`);
    return sub.queue.splice(0, limit);
  }

  /** Keep BACKLOG messages queued (motion flapping), past the usual queue bound. */
  fillBacklog(sub: Subscription): void {
    const utcMs = this.state.nowMs();
    for (let i = sub.queue.length; i < BACKLOG; i++) {
      const active = i % 2 === 0 ? 'true' : 'false';
      sub.queue.push({ event: backlogMotion(active), utcMs, operation: 'Changed', backlog: true });
    }
  }

  /** A pacing fault began: pulls waiting now answer as it says. */
  wakeAll(backlog: boolean): void {
    for (const sub of this.subs.values()) {
      if (backlog) this.fillBacklog(sub);
      sub.wake?.();
    }
  }

  /** The backlog fault ended: what it made up goes, real messages stay. */
  dropBacklog(): void {
    for (const sub of this.subs.values()) sub.queue = sub.queue.filter((n) => !n.backlog);
  }

  close(): void {
    clearInterval(this.sweep);
    this.dropAll();
  }

  private publish(event: SimEvent, operation: Notification['operation']): void {
    const utcMs = this.state.nowMs();
    for (const sub of this.subs.values()) this.enqueue(sub, { event, utcMs, operation });
  }

  private enqueue(sub: Subscription, n: Notification): void {
    if (sub.filters.length > 0 && !sub.filters.some((f) => topicMatches(f, n.event.topic))) return;
    sub.queue.push(n);
    if (sub.queue.length > MAX_QUEUE) sub.queue.shift();
    sub.wake?.();
  }

  private expire(): void {
    const now = Date.now();
    for (const sub of this.subs.values()) if (sub.terminationMs <= now) this.drop(sub);
  }

  private drop(sub: Subscription): void {
    this.subs.delete(sub.id);
    sub.wake?.();
  }

  private dropAll(): void {
    for (const sub of [...this.subs.values()]) this.drop(sub);
  }
}

const backlogMotion = (active: string): SimEvent => ({
  topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
  key: 'backlog',
  source: [['Rule', 'MyMotionDetectorRule']],
  data: [['IsMotion', active]],
});

/**
 * Topic filters from wsnt:TopicExpression: alternatives separated by "|"; "//." and a
 * trailing "/" or "//" select the subtree.
 */
export function topicMatches(filter: string, topic: string): boolean {
  return filter
    .split('|')
    .map((f) =>
      f
        .trim()
        .replace(/\/\/\.$/, '')
        .replace(/\/+$/, ''),
    )
    .some((f) => f !== '' && (topic === f || topic.startsWith(`${f}/`)));
}

export function notificationXml(n: Notification): string {
  const items = (list: [string, string][]) =>
    list.map(([name, value]) => `<tt:SimpleItem Name="${esc(name)}" Value="${esc(value)}"/>`).join('');
  return (
    `<wsnt:NotificationMessage><wsnt:Topic Dialect="${TOPIC_DIALECT}">${esc(n.event.topic)}</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${isoSeconds(n.utcMs)}" PropertyOperation="${n.operation}">` +
    `<tt:Source>${items(n.event.source)}</tt:Source><tt:Data>${items(n.event.data)}</tt:Data>` +
    `</tt:Message></wsnt:Message></wsnt:NotificationMessage>`
  );
}
