import { outcomeOf, type CheckResult } from './checks.ts';
import { Backoff, cameraAgent, pause, REPROBE_MS } from './pacing.ts';
import { isNotSupported, rewriteHost, type SoapClient } from './soap/client.ts';
import { all, attr, pick, text, type XmlNode } from './xml.ts';

/** One ONVIF notification, flattened: topic plus its Source and Data simple items. */
export interface OnvifEventMessage {
  topic: string;
  operation?: string;
  time?: number;
  source: Record<string, string>;
  data: Record<string, string>;
}

export interface PullPointOptions {
  client: SoapClient;
  /** The events service address (from GetCapabilities). */
  eventsUrl: string;
  /** Lease asked for in CreatePullPointSubscription; renewed at 80 % of what the device grants. */
  leaseS: number;
  /** Long-poll length of each PullMessages. */
  pullTimeoutS: number;
  onMessage(msg: OnvifEventMessage): void;
  onStateChange?(what: 'created' | 'renewed' | 'lost' | 'unsupported', detail: string): void;
}

function simpleItems(node: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of all(node, 'SimpleItem')) {
    const name = attr(item, 'Name');
    if (name !== undefined) out[name] = attr(item, 'Value') ?? '';
  }
  return out;
}

/** Parse a PullMessagesResponse body into flat messages (vendor topic prefixes kept). */
export function parseNotifications(body: XmlNode): OnvifEventMessage[] {
  const resp = pick(body, 'PullMessagesResponse');
  return all(resp, 'NotificationMessage').map((nm) => {
    const msg = pick(nm, 'Message', 'Message');
    const m: OnvifEventMessage = {
      topic: (text(pick(nm, 'Topic')) ?? '').trim(),
      source: simpleItems(pick(msg, 'Source')),
      data: simpleItems(pick(msg, 'Data')),
    };
    const op = attr(msg, 'PropertyOperation');
    if (op !== undefined) m.operation = op;
    const t = Date.parse(attr(msg, 'UtcTime') ?? '');
    if (Number.isFinite(t)) m.time = t;
    return m;
  });
}

/** Seconds between CurrentTime and TerminationTime of a subscription answer, if both parse. */
export function grantedLeaseS(resp: unknown): number | undefined {
  const cur = Date.parse(text(pick(resp, 'CurrentTime')) ?? '');
  const term = Date.parse(text(pick(resp, 'TerminationTime')) ?? '');
  return Number.isFinite(cur) && Number.isFinite(term) && term > cur ? (term - cur) / 1000 : undefined;
}

/** Least time between two PullMessages, whatever the camera answers. */
export const PULL_FLOOR_MS = 200;
/**
 * A camera that answers long before the Timeout asked for, with less than a full batch,
 * either ignores the Timeout or has a steady trickle: the gap between such pulls doubles
 * from the floor up to this, so it costs next to nothing (events wait on the camera, at
 * most this long). A full batch means a backlog: drained at the floor.
 */
export const EARLY_ANSWER_CEILING_MS = 1000;
const MESSAGE_LIMIT = 32;

interface Subscription {
  address: string;
  renewAt: number;
}

/**
 * Keeps exactly one pull-point subscription alive: creates it, long-polls PullMessages,
 * renews at 80 % of the lease (or re-subscribes, on cameras without Renew), and
 * re-creates it after any fault (expired subscription, camera reboot). Unsubscribe is
 * not relied on: an abandoned subscription simply expires. Paced: pulls at most every
 * PULL_FLOOR_MS, failures back off exponentially with jitter up to 30 s, a camera that
 * lacks pull points is asked again after REPROBE_MS (or `retryNow`), and everything runs
 * over one kept-alive socket.
 */
export class PullPointManager {
  created = 0;
  renewed = 0;
  pulls = 0;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private readonly agent = cameraAgent(1);
  private readonly failures = new Backoff(500, 30_000);
  private outcome: CheckResult | undefined;
  private renewUnsupported = false;
  private waking: AbortController | undefined;
  private readonly stopping = new AbortController();

  constructor(private readonly o: PullPointOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    // Cut the long poll rather than wait for it.
    this.agent.destroy();
    await this.loop?.catch(() => undefined);
  }

  /** ok, unsupported or failed (after two failures in a row); undefined until known. */
  status(): CheckResult | undefined {
    return this.outcome;
  }

  /** Cut a back-off or re-probe wait short (the camera is reachable again). */
  retryNow(): void {
    this.waking?.abort();
  }

  private async wait(ms: number, wakeable: boolean): Promise<void> {
    if (!wakeable) return pause(ms, this.stopping.signal);
    this.waking = new AbortController();
    const either = AbortSignal.any([this.waking.signal, this.stopping.signal]);
    await pause(ms, either);
    this.waking = undefined;
  }

  private async subscribe(): Promise<Subscription> {
    const body = await this.o.client.call(
      `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT${this.o.leaseS}S</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`,
      { url: this.o.eventsUrl, agent: this.agent },
    );
    const resp = pick(body, 'CreatePullPointSubscriptionResponse');
    const reported = text(pick(resp, 'SubscriptionReference', 'Address'));
    if (!reported) throw new Error('CreatePullPointSubscription answer has no SubscriptionReference/Address');
    this.created++;
    const address = rewriteHost(reported.trim(), this.o.eventsUrl);
    this.o.onStateChange?.('created', address);
    return { address, renewAt: Date.now() + (grantedLeaseS(resp) ?? this.o.leaseS) * 800 };
  }

  /** Renew; a camera that has no Renew gets a fresh subscription instead (the old one expires). */
  private async renew(sub: Subscription): Promise<Subscription> {
    if (this.renewUnsupported) return this.subscribe();
    try {
      const body = await this.o.client.call(
        `<wsnt:Renew><wsnt:TerminationTime>PT${this.o.leaseS}S</wsnt:TerminationTime></wsnt:Renew>`,
        { url: sub.address, agent: this.agent },
      );
      const lease = grantedLeaseS(pick(body, 'RenewResponse')) ?? this.o.leaseS;
      this.renewed++;
      this.o.onStateChange?.('renewed', sub.address);
      return { ...sub, renewAt: Date.now() + lease * 800 };
    } catch (err) {
      if (!isNotSupported(err)) throw err;
      this.renewUnsupported = true;
      return this.subscribe();
    }
  }

  /** One PullMessages; answers how long to wait before the next, and whether it came early. */
  private async pullOnce(sub: Subscription, earlyGapMs: number): Promise<{ gapMs: number; early: boolean }> {
    // Never long-poll past the renewal point. An expired or forgotten subscription
    // (reboot) answers the pull or the renewal with a fault: then it is re-created.
    const pollS = Math.max(1, Math.min(this.o.pullTimeoutS, Math.floor((sub.renewAt - Date.now()) / 1000)));
    const started = Date.now();
    const body = await this.o.client.call(
      `<tev:PullMessages><tev:Timeout>PT${pollS}S</tev:Timeout><tev:MessageLimit>${MESSAGE_LIMIT}</tev:MessageLimit></tev:PullMessages>`,
      { url: sub.address, agent: this.agent, timeoutMs: pollS * 1000 + this.o.client.opts.timeoutMs },
    );
    this.pulls++;
    const messages = parseNotifications(body);
    for (const m of messages) this.o.onMessage(m);
    const elapsed = Date.now() - started;
    const early = messages.length < MESSAGE_LIMIT && elapsed < pollS * 500;
    return { gapMs: (early ? earlyGapMs : PULL_FLOOR_MS) - elapsed, early };
  }

  private async run(): Promise<void> {
    let sub: Subscription | undefined;
    let earlyGapMs = PULL_FLOOR_MS;
    while (!this.stopped) {
      try {
        sub ??= await this.subscribe();
        // Renew when the next one-second poll would run past the renewal point.
        if (Date.now() + 1000 > sub.renewAt) sub = await this.renew(sub);
        const { gapMs, early } = await this.pullOnce(sub, earlyGapMs);
        this.failures.reset();
        this.outcome = { status: 'ok' };
        earlyGapMs = early ? Math.min(EARLY_ANSWER_CEILING_MS, earlyGapMs * 2) : PULL_FLOOR_MS;
        await this.wait(gapMs, false);
      } catch (err) {
        if (this.stopped) break;
        sub = undefined;
        const why = err instanceof Error ? err.message : String(err);
        if (isNotSupported(err)) {
          this.outcome = { status: 'unsupported', detail: why };
          this.o.onStateChange?.('unsupported', why);
          await this.wait(REPROBE_MS, true);
          continue;
        }
        this.o.onStateChange?.('lost', why);
        const delay = this.failures.next();
        // One lost subscription is routine (lease ended, camera rebooted); two in a row are not.
        if (this.failures.consecutive >= 2) this.outcome = outcomeOf(err);
        await this.wait(delay, true);
      }
    }
  }
}
