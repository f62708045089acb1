import { EventEmitter } from 'node:events';

export const FAULTS = [
  'wrong-password',
  'slow',
  'garbage-xml',
  'http-500',
  'clock-skew',
  'ir-failure',
  'offline',
  'rtsp-down',
  'pull-immediate',
  'event-backlog',
  'imaging-unsupported',
  'snapshot-404',
  'snapshot-garbage',
  'lost-write-answer',
] as const;
export type FaultName = (typeof FAULTS)[number];

export type ClockMode = 'day' | 'night' | 'auto';
export type IrCutMode = 'ON' | 'OFF' | 'AUTO';
export type SnapshotAuth = 'digest' | 'basic' | 'none';

export interface CameraConfig {
  index: number;
  host: string;
  httpPort: number;
  rtspHost: string;
  rtspPort: number;
  user: string;
  password: string;
  skewS: number;
  clock: ClockMode;
  utcOffsetH: number;
  manufacturer: string;
  model: string;
  serial: string;
  firmware: string;
  hardwareId: string;
  name: string;
  location: string;
  discovery: boolean;
  discoveryPort: number;
  discoveryIface: string;
  snapshotAuth: SnapshotAuth;
  /** WS-Security: how far `Created` may be from the camera clock. */
  authWindowS: number;
  /** Longest accepted PullMessages Timeout. */
  maxPullTimeoutS: number;
}

/** Skew applied by the clock-skew fault when the request names none. */
export const DEFAULT_FAULT_SKEW_S = 3600;
export const DEFAULT_SLOW_MS = 2000;

export type RelayMode = 'Monostable' | 'Bistable';
export interface RelayState {
  token: string;
  mode: RelayMode;
  delayTimeMs: number;
  idleState: 'open' | 'closed';
  logicalState: 'active' | 'inactive';
}

export interface SimEvent {
  topic: string;
  source: [string, string][];
  data: [string, string][];
  /** Property topics repeat their current value as Initialized on every new subscription. */
  key: string;
}

/**
 * Everything a probe remembers. Changes that a client could observe as an ONVIF event
 * are emitted as 'event'; the subscription manager turns them into notifications.
 */
export class CameraState extends EventEmitter<{ event: [SimEvent]; reboot: []; online: [boolean] }> {
  readonly faults: Record<FaultName, boolean> = Object.fromEntries(FAULTS.map((f) => [f, false])) as Record<
    FaultName,
    boolean
  >;
  delayMs = DEFAULT_SLOW_MS;
  faultSkewS = DEFAULT_FAULT_SKEW_S;
  clockMode: ClockMode;
  irCut: IrCutMode = 'AUTO';
  imaging = { brightness: 50, colorSaturation: 50, contrast: 50, sharpness: 50 };
  motion = false;
  tamper = false;
  relay: RelayState = {
    token: 'RelayOutput_0',
    mode: 'Bistable',
    delayTimeMs: 5000,
    idleState: 'open',
    logicalState: 'inactive',
  };
  bootAtMs = Date.now();
  bootCount = 1;
  rebooting = false;
  snapshotsServed = 0;
  /** SOAP requests answered, by operation (pulls, renewals…), for pacing tests. */
  readonly soapRequests: Record<string, number> = {};
  private relayTimer: NodeJS.Timeout | undefined;
  private lastNight: boolean;
  private lastDark: boolean;
  private readonly autoTimer: NodeJS.Timeout;

  constructor(readonly config: CameraConfig) {
    super();
    this.clockMode = config.clock;
    this.lastNight = this.filterRemoved();
    this.lastDark = this.imageTooDark();
    // In auto mode day turns into night by the camera clock; look once a minute.
    this.autoTimer = setInterval(() => this.lightChanged(), 60_000);
    this.autoTimer.unref();
  }

  get skewS(): number {
    return this.faults['clock-skew'] ? this.faultSkewS : this.config.skewS;
  }

  /** The camera's own clock, which may be wrong by skewS. */
  nowMs(): number {
    return Date.now() + this.skewS * 1000;
  }

  /** Password the camera currently accepts (a changed one under the wrong-password fault). */
  get password(): string {
    return this.faults['wrong-password'] ? `${this.config.password}-changed-on-device` : this.config.password;
  }

  get online(): boolean {
    return !this.faults.offline && !this.rebooting;
  }

  get uptimeS(): number {
    return Math.floor((Date.now() - this.bootAtMs) / 1000);
  }

  /** Is it dark outside (by the scene clock)? */
  isNight(): boolean {
    if (this.clockMode !== 'auto') return this.clockMode === 'night';
    const localHour = new Date(this.nowMs() + this.config.utcOffsetH * 3_600_000).getUTCHours();
    return localHour < 7 || localHour >= 19;
  }

  /** Night mode: IR-cut filter out of the light path, sensor sees the IR illuminator. */
  filterRemoved(): boolean {
    if (this.irCut === 'AUTO') return this.isNight();
    return this.irCut === 'OFF';
  }

  /** Night and nothing lights the scene the sensor can see. */
  imageTooDark(): boolean {
    return this.isNight() && (!this.filterRemoved() || this.faults['ir-failure']);
  }

  setClock(mode: ClockMode): void {
    this.clockMode = mode;
    this.lightChanged();
  }

  setIrCut(mode: IrCutMode): void {
    this.irCut = mode;
    this.lightChanged();
  }

  setFault(name: FaultName, active: boolean, opts: { delayMs?: number; skewS?: number } = {}): void {
    if (opts.delayMs !== undefined) this.delayMs = opts.delayMs;
    if (opts.skewS !== undefined) this.faultSkewS = opts.skewS;
    const wasOnline = this.online;
    this.faults[name] = active;
    if (name === 'ir-failure') this.lightChanged();
    if (wasOnline !== this.online) this.emit('online', this.online);
  }

  setMotion(active: boolean): void {
    this.motion = active;
    this.emit('event', motionEvent(active));
    this.emit('event', motionAlarmEvent(active));
  }

  setTamper(active: boolean): void {
    this.tamper = active;
    this.emit('event', tamperEvent(active));
    this.emit('event', sceneChangeEvent(active));
  }

  setRelayState(state: 'active' | 'inactive'): void {
    clearTimeout(this.relayTimer);
    this.relay.logicalState = state;
    this.emit('event', relayEvent(this.relay));
    // A monostable relay falls back to inactive on its own after DelayTime.
    if (state === 'active' && this.relay.mode === 'Monostable') {
      this.relayTimer = setTimeout(() => this.setRelayState('inactive'), this.relay.delayTimeMs);
      this.relayTimer.unref();
    }
  }

  /** Current value of every property topic, sent as Initialized to new subscribers. */
  propertySnapshot(): SimEvent[] {
    return [
      motionEvent(this.motion),
      motionAlarmEvent(this.motion),
      tamperEvent(this.tamper),
      sceneChangeEvent(this.tamper),
      dayNightEvent(!this.filterRemoved()),
      tooDarkEvent(this.imageTooDark()),
      relayEvent(this.relay),
    ];
  }

  /** Power cycle: volatile state is lost, uptime restarts. */
  reboot(downMs: number, done: () => void): void {
    const wasOnline = this.online;
    this.rebooting = true;
    this.emit('reboot');
    if (wasOnline) this.emit('online', false);
    clearTimeout(this.relayTimer);
    this.motion = false;
    this.tamper = false;
    this.relay.logicalState = 'inactive';
    setTimeout(() => {
      this.rebooting = false;
      this.bootAtMs = Date.now();
      this.bootCount++;
      if (this.online) this.emit('online', true);
      done();
    }, downMs).unref();
  }

  close(): void {
    clearInterval(this.autoTimer);
    clearTimeout(this.relayTimer);
  }

  private lightChanged(): void {
    const night = this.filterRemoved();
    const dark = this.imageTooDark();
    if (night !== this.lastNight) this.emit('event', dayNightEvent(!night));
    if (dark !== this.lastDark) this.emit('event', tooDarkEvent(dark));
    this.lastNight = night;
    this.lastDark = dark;
  }
}

const VSC = 'VideoSourceConfig_1';
const VS = 'VideoSource_1';
const bool = (b: boolean) => (b ? 'true' : 'false');

export const TOPICS = {
  motion: 'tns1:RuleEngine/CellMotionDetector/Motion',
  motionAlarm: 'tns1:VideoSource/MotionAlarm',
  tamper: 'tns1:RuleEngine/TamperDetector/Tamper',
  sceneChange: 'tns1:VideoSource/GlobalSceneChange/ImagingService',
  dayNight: 'tns1:VideoSource/DayNightVision',
  tooDark: 'tns1:VideoSource/ImageTooDark/ImagingService',
  relay: 'tns1:Device/Trigger/Relay',
} as const;

function event(topic: string, source: [string, string][], name: string, value: string): SimEvent {
  return { topic, key: topic, source, data: [[name, value]] };
}
const ruleSource = (rule: string): [string, string][] => [
  ['VideoSourceConfigurationToken', VSC],
  ['VideoAnalyticsConfigurationToken', 'VideoAnalyticsConfig_1'],
  ['Rule', rule],
];
const motionEvent = (on: boolean) =>
  event(TOPICS.motion, ruleSource('MyMotionDetectorRule'), 'IsMotion', bool(on));
const tamperEvent = (on: boolean) =>
  event(TOPICS.tamper, ruleSource('MyTamperDetectorRule'), 'IsTamper', bool(on));
const motionAlarmEvent = (on: boolean) => event(TOPICS.motionAlarm, [['Source', VS]], 'State', bool(on));
const sceneChangeEvent = (on: boolean) => event(TOPICS.sceneChange, [['Source', VS]], 'State', bool(on));
const tooDarkEvent = (dark: boolean) => event(TOPICS.tooDark, [['Source', VS]], 'State', bool(dark));
const dayNightEvent = (day: boolean) =>
  event(TOPICS.dayNight, [['VideoSourceConfigurationToken', VSC]], 'day', bool(day));
const relayEvent = (r: RelayState) =>
  event(TOPICS.relay, [['RelayToken', r.token]], 'LogicalState', r.logicalState);
