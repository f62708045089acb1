import type { DeviceEvent, IrMode, ProbeFields } from '../contract/canonical.ts';
import { online, type Health, type HealthReason } from '../contract/health.ts';
import { DeviceError, DriverError } from '../contract/errors.ts';
import type { Driver, DriverCommand, DriverContext, ReadResult } from '../contract/driver.ts';
import { PullPointManager, type OnvifEventMessage } from './events.ts';
import type { OnvifDeviceOptions } from './options.ts';
import { rtspDescribe } from './rtsp.ts';
import { OnvifSession } from './session.ts';
import { takeSnapshot, type Snapshot } from './snapshot.ts';
import { esc, pick, text } from './xml.ts';

/**
 * ONVIF IrCutFilter ON means the IR-cut filter is in front of the sensor: day mode, IR
 * illumination off. Our ir_mode speaks of the IR night mode, hence the inversion.
 */
const IR_TO_CUT: Record<IrMode, string> = { on: 'OFF', off: 'ON', auto: 'AUTO' };
export function irModeFromCutFilter(v: string | undefined): IrMode | undefined {
  const u = v?.trim().toUpperCase();
  return u === 'OFF' ? 'on' : u === 'ON' ? 'off' : u === 'AUTO' ? 'auto' : undefined;
}

const TRUE_WORDS = /^(true|1|active|on|night|yes|dark)$/i;

/** Which canonical event a notification is, and its boolean state. */
export function classifyEvent(
  m: OnvifEventMessage,
): { type: 'motion' | 'tamper' | 'day-night' | 'relay'; on: boolean } | null {
  const values = Object.entries(m.data);
  const pickBool = (...names: string[]) => {
    const hit = values.find(([k]) => names.some((n) => k.toLowerCase() === n.toLowerCase())) ?? values[0];
    return hit ? TRUE_WORDS.test(hit[1]) : false;
  };
  const t = m.topic;
  if (/relay/i.test(t)) return { type: 'relay', on: pickBool('LogicalState', 'State') };
  if (/tamper|GlobalSceneChange/i.test(t))
    return { type: 'tamper', on: pickBool('IsTamper', 'State', 'Active') };
  if (/day.?night|ircut|night/i.test(t)) {
    // Some firmware reports "day" (true by day), others "IsNight"/"State" (true by night).
    const day = values.find(([k]) => /^(day|isday)$/i.test(k));
    return {
      type: 'day-night',
      on: day ? !TRUE_WORDS.test(day[1]) : pickBool('IsNight', 'Night', 'State', 'Mode'),
    };
  }
  if (/motion/i.test(t)) return { type: 'motion', on: pickBool('IsMotion', 'State', 'Motion', 'Active') };
  return null;
}

/** A night-vision probe: health, clock, snapshot luma, IR, stream and events, via ONVIF. */
export class OnvifProbeDriver implements Driver {
  readonly kind = 'probe' as const;
  readonly session: OnvifSession;
  private state: Pick<ProbeFields, 'motion' | 'tamper' | 'night' | 'relay_active'> = {};
  private darkChecks = 0;
  private current: Health | undefined;
  private pull: PullPointManager | undefined;

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

  private async ensureSession() {
    const ep = await this.session.discover();
    if (this.opts.events && ep.events && !this.pull) {
      this.pull = new PullPointManager({
        client: this.session.client,
        eventsUrl: ep.events,
        leaseS: this.opts.eventLeaseS,
        pullTimeoutS: this.opts.eventPullS,
        onMessage: (m) => this.onEvent(m),
        onStateChange: (what, detail) => this.ctx.log.debug({ device: this.id, what, detail }, 'pull-point'),
      });
      this.pull.start();
    }
    return ep;
  }

  /** Subscription counters, for tests and diagnostics. */
  eventStats(): { created: number; renewed: number } {
    return { created: this.pull?.created ?? 0, renewed: this.pull?.renewed ?? 0 };
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
    let ep;
    try {
      ep = await this.ensureSession();
    } catch (err) {
      throw this.fail(err);
    }
    const fields: ProbeFields = { online: true };
    const degraded: { reason: HealthReason; detail: string }[] = [];
    try {
      fields.clock_skew_s = await this.session.client.syncClock();
      if (Math.abs(fields.clock_skew_s) > this.opts.skewThresholdS) {
        degraded.push({ reason: 'clock-skew', detail: `device clock off by ${fields.clock_skew_s} s` });
      }
      // An authenticated call every poll: credentials changed on the device show at once.
      if (ep.imaging && ep.videoSourceToken) fields.ir_mode = await this.getIrMode();
      else await this.session.client.call('<tds:GetDeviceInformation/>');
      if (this.opts.snapshot && ep.snapshotUrl) {
        const snap = await this.snapshot();
        fields.snapshot_ms = snap.ms;
        fields.snapshot_luma = snap.luma;
      }
    } catch (err) {
      // Whatever broke, the addresses may be stale (reboot, new firmware): learn them again.
      this.session.reset();
      throw this.fail(err);
    }
    if (this.opts.stream && ep.streamUrl) {
      try {
        await rtspDescribe({
          url: ep.streamUrl,
          username: this.opts.username,
          password: this.opts.password,
          timeoutMs: this.opts.timeoutMs,
        });
        fields.stream_ok = true;
      } catch (err) {
        fields.stream_ok = false;
        degraded.push({
          reason: 'stream-unreachable',
          detail: err instanceof Error ? err.message : String(err),
        });
      }
    }
    Object.assign(fields, this.state);
    const irFault = this.checkIr(fields);
    if (irFault) degraded.push(irFault);
    const health = degraded.length
      ? this.setHealth('degraded', degraded[0]!.reason, degraded.map((d) => d.detail).join('; '))
      : this.setHealth('online');
    return { fields, health };
  }

  /** At night with IR on/auto, N dark snapshots in a row mean the illuminator has failed. */
  private checkIr(f: ProbeFields): { reason: HealthReason; detail: string } | undefined {
    const irExpected = f.ir_mode === undefined || f.ir_mode === 'on' || f.ir_mode === 'auto';
    if (
      f.night === true &&
      irExpected &&
      f.snapshot_luma !== undefined &&
      f.snapshot_luma < this.opts.irLumaThreshold
    ) {
      this.darkChecks++;
    } else if (f.snapshot_luma !== undefined) {
      this.darkChecks = 0;
    }
    if (this.darkChecks < this.opts.irFaultChecks) return undefined;
    return {
      reason: 'ir-fault',
      detail: `night snapshot mean luma ${f.snapshot_luma} under ${this.opts.irLumaThreshold} for ${this.darkChecks} checks with IR ${f.ir_mode ?? 'expected'}`,
    };
  }

  private setHealth(status: Health['status'], reason?: HealthReason, detail?: string): Health {
    if (this.current?.status === status && this.current.reason === reason) {
      if (detail !== undefined) this.current = { ...this.current, detail };
      return this.current;
    }
    this.current =
      status === 'online' ? online() : { status, reason, detail, since: new Date().toISOString() };
    return this.current;
  }

  private fail(err: unknown): DeviceError {
    const e =
      err instanceof DeviceError
        ? err
        : new DeviceError('bad-response', err instanceof Error ? err.message : String(err), 'degraded', {
            cause: err,
          });
    this.setHealth(e.status, e.reason, e.message);
    return e;
  }

  health(): Health | undefined {
    return this.current;
  }

  private async getIrMode(): Promise<IrMode | undefined> {
    const ep = this.session.endpoints!;
    const body = await this.session.client.call(
      `<timg:GetImagingSettings><timg:VideoSourceToken>${esc(ep.videoSourceToken!)}</timg:VideoSourceToken></timg:GetImagingSettings>`,
      { url: ep.imaging },
    );
    return irModeFromCutFilter(
      text(pick(body, 'GetImagingSettingsResponse', 'ImagingSettings', 'IrCutFilter')),
    );
  }

  async snapshot(): Promise<Snapshot> {
    const ep = await this.ensureSession();
    if (!ep.snapshotUrl)
      throw new DeviceError('bad-response', `${this.id}: the device offers no snapshot URI`, 'degraded');
    return takeSnapshot({
      url: ep.snapshotUrl,
      username: this.opts.username,
      password: this.opts.password,
      timeoutMs: this.opts.timeoutMs,
    });
  }

  async execute(command: DriverCommand): Promise<unknown> {
    if (command.action === 'snapshot') return this.snapshot();
    if (command.action === 'set-ir-mode') {
      const ep = await this.ensureSession();
      if (!ep.imaging || !ep.videoSourceToken)
        throw new DeviceError('bad-response', `${this.id}: no imaging service`, 'degraded');
      await this.session.client.call(
        `<timg:SetImagingSettings><timg:VideoSourceToken>${esc(ep.videoSourceToken)}</timg:VideoSourceToken>` +
          `<timg:ImagingSettings><tt:IrCutFilter>${IR_TO_CUT[command.mode]}</tt:IrCutFilter></timg:ImagingSettings>` +
          `<timg:ForcePersistence>true</timg:ForcePersistence></timg:SetImagingSettings>`,
        { url: ep.imaging },
      );
      return { mode: await this.getIrMode() };
    }
    throw new DriverError('unsupported', `${this.id} is a probe: it does not do "${command.action}"`);
  }

  async close(): Promise<void> {
    await this.pull?.stop();
    this.pull = undefined;
  }
}
