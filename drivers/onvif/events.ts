import http from 'node:http';
import { all, attr, pick, text, type XmlNode } from './xml.ts';
import { rewriteHost, type SoapClient } from './soap/client.ts';

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
  onStateChange?(what: 'created' | 'renewed' | 'lost', detail: string): void;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Keeps exactly one pull-point subscription alive: creates it, long-polls PullMessages,
 * renews at 80 % of the lease, and re-creates it after any fault (expired subscription,
 * camera reboot). Unsubscribe is not relied on: an abandoned subscription simply expires.
 */
export class PullPointManager {
  created = 0;
  renewed = 0;
  private stopped = true;
  private loop: Promise<void> | undefined;
  // No keep-alive: a reused socket the camera just closed would fail the next pull.
  private readonly agent = new http.Agent({ keepAlive: false, maxSockets: 2 });

  constructor(private readonly o: PullPointOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Cut the long poll rather than wait for it.
    this.agent.destroy();
    await this.loop?.catch(() => undefined);
  }

  private async create(): Promise<{ address: string; leaseS: number }> {
    const body = await this.o.client.call(
      `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT${this.o.leaseS}S</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`,
      { url: this.o.eventsUrl, agent: this.agent },
    );
    const resp = pick(body, 'CreatePullPointSubscriptionResponse');
    const reported = text(pick(resp, 'SubscriptionReference', 'Address'));
    if (!reported) throw new Error('CreatePullPointSubscription answer has no SubscriptionReference/Address');
    this.created++;
    return {
      address: rewriteHost(reported.trim(), this.o.eventsUrl),
      leaseS: grantedLeaseS(resp) ?? this.o.leaseS,
    };
  }

  private async run(): Promise<void> {
    let sub: { address: string; leaseS: number; renewAt: number } | undefined;
    let backoffMs = 500;
    while (!this.stopped) {
      try {
        if (!sub) {
          const c = await this.create();
          const now = Date.now();
          sub = { ...c, renewAt: now + c.leaseS * 800 };
          backoffMs = 500;
          this.o.onStateChange?.('created', c.address);
        }
        // Renew when the next one-second poll would run past the renewal point.
        if (Date.now() + 1000 > sub.renewAt) {
          const body = await this.o.client.call(
            `<wsnt:Renew><wsnt:TerminationTime>PT${this.o.leaseS}S</wsnt:TerminationTime></wsnt:Renew>`,
            { url: sub.address, agent: this.agent },
          );
          const lease = grantedLeaseS(pick(body, 'RenewResponse')) ?? this.o.leaseS;
          const now = Date.now();
          sub.renewAt = now + lease * 800;
          this.renewed++;
          this.o.onStateChange?.('renewed', sub.address);
        }
        // Never long-poll past the renewal point. An expired or forgotten subscription
        // (reboot) answers the pull or the renewal with a fault: then it is re-created.
        const pollS = Math.max(
          1,
          Math.min(this.o.pullTimeoutS, Math.floor((sub.renewAt - Date.now()) / 1000)),
        );
        const body = await this.o.client.call(
          `<tev:PullMessages><tev:Timeout>PT${pollS}S</tev:Timeout><tev:MessageLimit>32</tev:MessageLimit></tev:PullMessages>`,
          { url: sub.address, agent: this.agent, timeoutMs: pollS * 1000 + this.o.client.opts.timeoutMs },
        );
        for (const m of parseNotifications(body)) this.o.onMessage(m);
      } catch (err) {
        if (this.stopped) break;
        this.o.onStateChange?.('lost', err instanceof Error ? err.message : String(err));
        sub = undefined;
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 10_000);
      }
    }
  }
}
