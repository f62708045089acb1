import type { DeviceEvent, ProbeFields } from '../contract/canonical.ts';
import type { FeatureStatus, Health } from '../contract/health.ts';
import { DeviceError, DriverError } from '../contract/errors.ts';
import type { Driver, DriverCommand, DriverContext, DriverSnapshot, ReadResult } from '../contract/driver.ts';
import {
  OK,
  outcomeOf,
  publicChecks,
  verdict,
  type CheckName,
  type CheckResult,
  type CheckResults,
} from './checks.ts';
import { PullPointManager, type OnvifEventMessage } from './events.ts';
import { getIrMode, setIrMode, type ImagingTarget } from './imaging.ts';
import { classifyEvent } from './notifications.ts';
import type { OnvifDeviceOptions } from './options.ts';
import { REPROBE_MS } from './pacing.ts';
import { rtspDescribe } from './rtsp.ts';
import { OnvifSession, type OnvifEndpoints } from './session.ts';
import { takeSnapshot, type Snapshot } from './snapshot.ts';
import { isNotSupported } from './soap/client.ts';
import { pick, text } from './xml.ts';

export { classifyEvent } from './notifications.ts';
export { irModeFromCutFilter } from './imaging.ts';

/** Who the camera says it is (GetDeviceInformation). */
export interface ProbeIdentity {
  manufacturer?: string;
  model?: string;
  firmware?: string;
  serial?: string;
  hardwareId?: string;
}

/** The features a probe reports, and the check each one's status comes from. */
const FEATURES = ['imaging', 'events', 'snapshot', 'stream'] as const satisfies readonly CheckName[];

/**
 * A night-vision probe: clock, identity, media, snapshot luma, IR, stream and events via
 * ONVIF. Every check runs on its own each poll; what the camera lacks is `unsupported`,
 * asked again only after REPROBE_MS or a reconnect; health names the worst real problem.
 */
export class OnvifProbeDriver implements Driver {
  readonly kind = 'probe' as const;
  readonly session: OnvifSession;
  private state: Pick<ProbeFields, 'motion' | 'tamper' | 'night' | 'relay_active'> = {};
  private darkChecks = 0;
  private current: Health | undefined;
  private results: CheckResults = {};
  /** Checks a call showed the camera lacks, and when to ask again. */
  private lacking: Partial<Record<CheckName, { until: number; result: CheckResult }>> = {};
  private generation = 0;
  private identityInfo: ProbeIdentity | undefined;
  private lastSnapshotUrl: string | undefined;
  private lastFrame: DriverSnapshot | undefined;
  private pull: PullPointManager | undefined;
  private pullUrl: string | undefined;

  constructor(
    readonly id: string,
    readonly opts: OnvifDeviceOptions,
    private readonly ctx: DriverContext,
  ) {
    this.session = new OnvifSession(opts);
  }

  async connect(): Promise<void> {
    await this.ensureSession();
  }

  private async ensureSession(): Promise<OnvifEndpoints> {
    const ep = await this.session.discover();
    if (ep.snapshotUrl) this.lastSnapshotUrl = ep.snapshotUrl;
    if (ep.generation !== this.generation) {
      // A new look at the camera (first contact, reconnect, or REPROBE_MS later): ask again.
      this.generation = ep.generation;
      this.lacking = {};
      this.pull?.retryNow();
    }
    this.syncEvents(ep);
    return ep;
  }

  private syncEvents(ep: OnvifEndpoints): void {
    const wanted =
      this.opts.events && ep.events && ep.capabilities.pullPoint !== false ? ep.events : undefined;
    if (this.pull && this.pullUrl !== wanted) {
      void this.pull.stop();
      this.pull = undefined;
    }
    if (!wanted || this.pull) return;
    this.pullUrl = wanted;
    this.pull = new PullPointManager({
      client: this.session.client,
      eventsUrl: wanted,
      leaseS: this.opts.eventLeaseS,
      pullTimeoutS: this.opts.eventPullS,
      onMessage: (m) => this.onEvent(m),
      onStateChange: (what, detail) => this.ctx.log.debug({ device: this.id, what, detail }, 'pull-point'),
    });
    this.pull.start();
  }

  /** Subscription counters, for tests and diagnostics. */
  eventStats(): { created: number; renewed: number; pulls: number } {
    return {
      created: this.pull?.created ?? 0,
      renewed: this.pull?.renewed ?? 0,
      pulls: this.pull?.pulls ?? 0,
    };
  }

  identity(): ProbeIdentity | undefined {
    return this.identityInfo;
  }

  /** The identity for the device view (manufacturer, model, firmware, serial, hardwareId). */
  info(): Record<string, string> | undefined {
    const id = this.identityInfo;
    return id && Object.keys(id).length > 0 ? { ...id } : undefined;
  }

  features(): Record<string, FeatureStatus> {
    const out: Record<string, FeatureStatus> = {};
    for (const f of FEATURES) {
      const r = this.results[f];
      if (r) out[f] = r.status;
    }
    const relays = this.session.endpoints?.capabilities.relayOutputs;
    if (relays !== undefined) out['relay-outputs'] = relays > 0 ? 'ok' : 'unsupported';
    return out;
  }

  private onEvent(m: OnvifEventMessage): void {
    const c = classifyEvent(m);
    if (!c) return;
    const data = { state: c.on, topic: m.topic };
    if (c.type === 'relay') {
      this.state.relay_active = c.on;
      return;
    }
    if (c.type === 'day-night') this.state.night = c.on;
    else this.state[c.type] = c.on;
    const detail =
      c.type === 'day-night' ? (c.on ? 'night' : 'day') : `${c.type} ${c.on ? 'started' : 'ended'}`;
    const ev: DeviceEvent = { type: c.type, detail, data, time: m.time ?? Date.now() };
    this.ctx.emit(ev);
  }

  async read(): Promise<ReadResult> {
    let ep: OnvifEndpoints;
    try {
      ep = await this.ensureSession();
    } catch (err) {
      throw this.fail(err);
    }
    const fields: ProbeFields = { online: true };
    const r: CheckResults = {};
    const check = async (name: CheckName, run: () => Promise<CheckResult | void>) => {
      try {
        r[name] = (await run()) ?? OK;
      } catch (err) {
        r[name] = outcomeOf(err);
        if (r[name].status === 'unsupported')
          this.lacking[name] = { until: Date.now() + REPROBE_MS, result: r[name] };
      }
    };
    await Promise.all([
      check('clock', () => this.checkClock(fields)),
      // An authenticated call every poll: credentials changed on the device show at once.
      check('device', () => this.readIdentity()),
      this.opts.snapshot && this.optional('snapshot', ep, r, () => this.checkSnapshot(fields), check),
      this.opts.stream && this.optional('stream', ep, r, () => this.checkStream(ep, fields), check),
      this.optional('imaging', ep, r, () => this.checkImaging(ep, fields), check),
    ]);
    if (ep.found.media) r.media = ep.found.media;
    const events = this.eventsResult(ep);
    if (events) r.events = events;
    Object.assign(fields, this.state);
    const ir = this.checkIr(fields);
    if (ir) r.ir = ir;
    const health = this.conclude(r);
    if (health.status === 'offline') {
      // Unreachable or refusing us: the addresses may be stale (reboot, new firmware).
      this.session.reset();
      throw new DeviceError(health.reason ?? 'bad-response', health.detail ?? 'unreachable', 'offline');
    }
    return { fields, health };
  }

  /** Run a check the camera may lack; what discovery or an earlier call showed missing is reported, not asked. */
  private optional(
    name: 'snapshot' | 'stream' | 'imaging',
    ep: OnvifEndpoints,
    r: CheckResults,
    run: () => Promise<void>,
    check: (name: CheckName, run: () => Promise<CheckResult | void>) => Promise<void>,
  ): Promise<void> | undefined {
    const known = this.lacking[name];
    if (known && known.until > Date.now()) {
      r[name] = known.result;
      return undefined;
    }
    const available =
      name === 'snapshot'
        ? ep.snapshotUrl
        : name === 'stream'
          ? ep.streamUrl
          : ep.imaging && ep.videoSourceToken;
    if (available) return check(name, run);
    const found = name === 'imaging' ? this.imagingAbsence(ep) : ep.found[name];
    if (found) r[name] = found;
    return undefined;
  }

  private imagingAbsence(ep: OnvifEndpoints): CheckResult | undefined {
    if (!ep.imaging) return { status: 'unsupported', detail: 'the camera advertises no imaging service' };
    // No video source because media failed: that failure is reported as media's.
    if (ep.found.media?.status !== 'ok') return undefined;
    return { status: 'unsupported', detail: 'the media profile names no video source for imaging' };
  }

  private eventsResult(ep: OnvifEndpoints): CheckResult | undefined {
    if (!this.opts.events) return undefined;
    if (!ep.events) return { status: 'unsupported', detail: 'the camera advertises no events service' };
    if (ep.capabilities.pullPoint === false)
      return { status: 'unsupported', detail: 'the camera advertises no pull-point support' };
    return this.pull?.status();
  }

  private async checkClock(fields: ProbeFields): Promise<CheckResult> {
    fields.clock_skew_s = await this.session.client.syncClock();
    if (Math.abs(fields.clock_skew_s) <= this.opts.skewThresholdS) return OK;
    return { status: 'failed', reason: 'clock-skew', detail: `device clock off by ${fields.clock_skew_s} s` };
  }

  private async readIdentity(): Promise<void> {
    const body = await this.session.client.call('<tds:GetDeviceInformation/>');
    const info = pick(body, 'GetDeviceInformationResponse');
    const field = (k: string) => text(pick(info, k))?.trim() || undefined;
    const id: ProbeIdentity = {};
    for (const [k, el] of [
      ['manufacturer', 'Manufacturer'],
      ['model', 'Model'],
      ['firmware', 'FirmwareVersion'],
      ['serial', 'SerialNumber'],
      ['hardwareId', 'HardwareId'],
    ] as const) {
      const v = field(el);
      if (v) id[k] = v;
    }
    this.identityInfo = id;
  }

  private async checkImaging(ep: OnvifEndpoints, fields: ProbeFields): Promise<void> {
    const mode = await getIrMode(this.session.client, this.imagingTarget(ep)!);
    if (mode) fields.ir_mode = mode;
  }

  private async checkSnapshot(fields: ProbeFields): Promise<void> {
    const snap = await this.snapshot();
    this.lastFrame = { ...snap, takenAt: Date.now() };
    fields.snapshot_ms = snap.ms;
    fields.snapshot_luma = snap.luma;
  }

  private async checkStream(ep: OnvifEndpoints, fields: ProbeFields): Promise<void> {
    fields.stream_ok = false;
    await rtspDescribe({
      url: ep.streamUrl!,
      username: this.opts.username,
      password: this.opts.password,
      timeoutMs: this.opts.timeoutMs,
    });
    fields.stream_ok = true;
  }

  /** At night with IR on/auto, N dark snapshots in a row mean the illuminator has failed. */
  private checkIr(f: ProbeFields): CheckResult | undefined {
    if (f.snapshot_luma === undefined) return undefined;
    const irExpected = f.ir_mode === undefined || f.ir_mode === 'on' || f.ir_mode === 'auto';
    if (f.night === true && irExpected && f.snapshot_luma < this.opts.irLumaThreshold) this.darkChecks++;
    else this.darkChecks = 0;
    if (this.darkChecks < this.opts.irFaultChecks) return OK;
    return {
      status: 'failed',
      reason: 'ir-fault',
      detail: `night snapshot mean luma ${f.snapshot_luma} under ${this.opts.irLumaThreshold} for ${this.darkChecks} checks with IR ${f.ir_mode ?? 'expected'}`,
    };
  }

  /** Health from this poll's checks; `since` moves only when status or reason do. */
  private conclude(results: CheckResults): Health {
    this.results = results;
    const v = verdict(results);
    const same = this.current?.status === v.status && this.current.reason === v.reason;
    this.current = {
      status: v.status,
      ...(v.reason ? { reason: v.reason } : {}),
      ...(v.detail ? { detail: v.detail } : {}),
      since: same ? this.current!.since : new Date().toISOString(),
      checks: publicChecks(results),
    };
    return this.current;
  }

  /** Discovery itself failed: nothing could be checked. */
  private fail(err: unknown): DeviceError {
    const e =
      err instanceof DeviceError
        ? err
        : new DeviceError('bad-response', err instanceof Error ? err.message : String(err), 'degraded', {
            cause: err,
          });
    this.conclude({ device: outcomeOf(e) });
    return e;
  }

  health(): Health | undefined {
    return this.current;
  }

  /** The frame the last poll's snapshot check took (none when `snapshot: false`). */
  latestSnapshot(): DriverSnapshot | undefined {
    return this.lastFrame;
  }

  private imagingTarget(ep: OnvifEndpoints): ImagingTarget | undefined {
    return ep.imaging && ep.videoSourceToken
      ? { url: ep.imaging, videoSourceToken: ep.videoSourceToken }
      : undefined;
  }

  /** A snapshot now; the last known URL serves while the camera is being rediscovered. */
  async snapshot(): Promise<Snapshot> {
    let url = this.session.endpoints?.snapshotUrl ?? this.lastSnapshotUrl;
    if (!url) {
      const ep = await this.ensureSession();
      url = ep.snapshotUrl;
      if (!url) {
        const why = ep.found.snapshot ?? ep.found.media;
        if (why?.status === 'failed')
          throw new DeviceError(
            why.reason ?? 'bad-response',
            why.detail ?? 'snapshot URI unknown',
            'degraded',
          );
        throw new DriverError('unsupported', `${this.id}: the camera offers no snapshot URI`);
      }
    }
    return takeSnapshot({
      url,
      username: this.opts.username,
      password: this.opts.password,
      timeoutMs: this.opts.timeoutMs,
      agent: this.session.agent,
      auth: this.session.auth,
    });
  }

  async execute(command: DriverCommand): Promise<unknown> {
    if (command.action === 'snapshot') return this.snapshot();
    if (command.action === 'set-ir-mode') {
      const target = this.imagingTarget(await this.ensureSession());
      if (!target || this.lacking.imaging)
        throw new DriverError('unsupported', `${this.id}: the camera offers no imaging (IR) control`);
      try {
        await setIrMode(this.session.client, target, command.mode);
      } catch (err) {
        if (isNotSupported(err))
          throw new DriverError('unsupported', `${this.id}: the camera refuses IR control: ${String(err)}`);
        throw err;
      }
      return { mode: await getIrMode(this.session.client, target) };
    }
    throw new DriverError('unsupported', `${this.id} is a probe: it does not do "${command.action}"`);
  }

  async close(): Promise<void> {
    await this.pull?.stop();
    this.pull = undefined;
    this.session.close();
  }
}
