import type { ArmState, BarrierFields } from '../contract/canonical.ts';
import { online, type Health } from '../contract/health.ts';
import { DeviceError, DriverError, wentOut } from '../contract/errors.ts';
import type { Driver, DriverCommand, DriverContext, ExecuteOptions, ReadResult } from '../contract/driver.ts';
import type { OnvifDeviceOptions, RelayOptions } from './options.ts';
import { OnvifSession } from './session.ts';
import { all, attr, esc, pick, text } from './xml.ts';

const ARM_TRAVEL_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A barrier whose controller input is wired to a probe's relay output. The relay is all
 * it knows: the arm is inferred from the relay (active = open for a bistable wiring,
 * a pulse = open command for a monostable one). Interlocks, idempotency and
 * confirmation belong to the command service above.
 */
export class OnvifRelayBarrierDriver implements Driver {
  readonly kind = 'barrier' as const;
  readonly session: OnvifSession;
  readonly relay: RelayOptions;
  /** Last state known for the relay: read back where the device says, else as commanded. */
  private active = false;
  private holdOpen = false;
  private pulsedOpenAt = 0;
  /** Until when a commanded close is still bringing the arm down (relay.travelMs). */
  private closingUntil = 0;
  private current: Health | undefined;

  constructor(
    readonly id: string,
    readonly opts: OnvifDeviceOptions,
    private readonly ctx: DriverContext,
  ) {
    if (!opts.relay) throw new DriverError('invalid-config', `${id}: a relay barrier needs "relay" options`);
    this.relay = opts.relay;
    this.session = new OnvifSession(opts);
  }

  async connect(): Promise<void> {
    await this.guard(() => this.session.client.syncClock());
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DriverError && !(err instanceof DeviceError)) throw err;
      const e = err instanceof DeviceError ? err : new DeviceError('bad-response', String(err), 'degraded');
      if (this.current?.reason !== e.reason)
        this.current = {
          status: e.status,
          reason: e.reason,
          detail: e.message,
          since: new Date().toISOString(),
        };
      throw e;
    }
  }

  private setRelay(token: string, active: boolean): Promise<unknown> {
    return this.session.client.call(
      `<tds:SetRelayOutputState><tds:RelayOutputToken>${esc(token)}</tds:RelayOutputToken>` +
        `<tds:LogicalState>${active ? 'active' : 'inactive'}</tds:LogicalState></tds:SetRelayOutputState>`,
    );
  }

  /**
   * A command's first relay write, then what it means for the arm (`apply`), then the
   * caller told the write is with the camera. Unanswered, the camera may have switched
   * the relay: the arm is taken to move as commanded (a close is then watched, not
   * forgotten) and what is read back decides.
   */
  private async firstWrite(
    opts: ExecuteOptions,
    token: string,
    on: boolean,
    apply: () => void,
  ): Promise<void> {
    try {
      await this.setRelay(token, on);
    } catch (err) {
      if (!wentOut(err)) throw err;
      apply();
      opts.onWritten?.(false);
      throw err;
    }
    apply();
    opts.onWritten?.(true);
  }

  private async pulse(
    token: string,
    opts: ExecuteOptions = {},
    apply: () => void = () => undefined,
  ): Promise<void> {
    await this.firstWrite(opts, token, true, apply);
    try {
      await sleep(this.relay.pulseMs);
    } finally {
      await this.setRelay(token, false);
    }
  }

  /** Relay state as the device reports it (GetRelayOutputs; some firmware adds the state). */
  private async readRelay(): Promise<boolean | undefined> {
    const body = await this.session.client.call('<tds:GetRelayOutputs/>');
    const outputs = all(pick(body, 'GetRelayOutputsResponse'), 'RelayOutputs');
    const mine = outputs.find((o) => attr(o, 'token') === this.relay.token);
    if (!mine)
      throw new DeviceError(
        'bad-response',
        `${this.id}: the device has no relay output "${this.relay.token}"`,
        'degraded',
      );
    const state = text(pick(mine, 'LogicalState')) ?? text(pick(mine, 'State'));
    return state === undefined ? undefined : /^active$/i.test(state.trim());
  }

  async read(): Promise<ReadResult> {
    const reported = await this.guard(() => this.readRelay());
    if (reported !== undefined) this.active = reported;
    const fields: BarrierFields = { arm_state: this.arm(), hold_open: this.holdOpen };
    if (this.current?.status !== 'online') this.current = online();
    return { fields, health: this.current };
  }

  /**
   * The arm as the relay implies it, without asking the camera: supervision reads this
   * many times a second, and the lane's sensors (on another device) say the rest.
   */
  async sense(): Promise<BarrierFields> {
    return { arm_state: this.arm() };
  }

  private arm(): ArmState {
    if (!this.active && !this.holdOpen && Date.now() < this.closingUntil) return 'closing';
    let arm: ArmState;
    if (this.relay.mode === 'bistable') arm = this.active ? 'open' : 'closed';
    // A pulse only starts the controller's own cycle: "opening" for a typical arm travel,
    // then unknown (the controller closes on its own timer, unseen from the relay).
    else
      arm =
        this.holdOpen || this.active
          ? 'open'
          : Date.now() - this.pulsedOpenAt < ARM_TRAVEL_MS
            ? 'opening'
            : 'unknown';
    return arm;
  }

  /** Back up at once: energise the relay (bistable) or pulse it (monostable). */
  async reverse(opts: Pick<ExecuteOptions, 'onWritten'> = {}): Promise<unknown> {
    const bistable = this.relay.mode === 'bistable';
    await this.guard(async () => {
      await this.firstWrite(opts, this.relay.token, true, () => {
        this.closingUntil = 0;
        this.pulsedOpenAt = Date.now();
        this.active = true;
      });
      if (!bistable) {
        await sleep(this.relay.pulseMs);
        await this.setRelay(this.relay.token, false);
        this.active = false;
      }
    });
    this.ctx.log.info({ device: this.id, relay: this.relay.token }, 'relay reversed a closing arm');
    return { reversal: ['open'], relayActive: this.active };
  }

  async execute(command: DriverCommand, opts: ExecuteOptions = {}): Promise<unknown> {
    const a = command.action;
    const bistable = this.relay.mode === 'bistable';
    await this.guard(async () => {
      switch (a) {
        case 'open': {
          const opened = () => {
            this.pulsedOpenAt = Date.now();
            this.active = true;
          };
          if (bistable) await this.firstWrite(opts, this.relay.token, true, opened);
          else await this.pulse(this.relay.token, opts, opened);
          this.active = bistable;
          break;
        }
        case 'hold-open':
          await this.firstWrite(opts, this.relay.token, true, () => {
            this.active = true;
            this.holdOpen = true;
          });
          break;
        case 'release':
        case 'close':
        case 'stop':
          await this.firstWrite(opts, this.relay.token, false, () => {
            this.active = false;
            this.holdOpen = false;
            if (a === 'close' && this.relay.travelMs) this.closingUntil = Date.now() + this.relay.travelMs;
          });
          if (a === 'close' && !bistable && this.relay.closeToken) await this.pulse(this.relay.closeToken);
          break;
        default:
          throw new DriverError('unsupported', `${this.id}: a relay barrier cannot "${a}"`);
      }
    });
    this.ctx.log.info(
      { device: this.id, action: a, relay: this.relay.token, active: this.active },
      'relay set',
    );
    return { action: a, relayActive: this.active };
  }

  health(): Health | undefined {
    return this.current;
  }

  async close(): Promise<void> {
    this.session.close();
  }
}
