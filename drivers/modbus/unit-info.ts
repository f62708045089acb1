import type { Logger } from 'pino';
import { DeviceError } from '../contract/errors.ts';
import type { ModbusBus } from './bus.ts';
import { READ_FC, readRequest } from './codec.ts';
import { readDeviceInfo, type RangeReader } from './device-info.ts';
import type { Profile } from './profile.ts';

/** A unit's registers through the bus; a range the unit refuses (illegal address/function) reads undefined. */
export function busReader(bus: ModbusBus, unit: number): RangeReader {
  return async (r) => {
    try {
      return (
        (await bus.request(unit, readRequest(READ_FC[r.type], r.address, r.count), { retries: 0 })) ?? []
      );
    } catch (err) {
      if (
        err instanceof DeviceError &&
        (err.reason === 'illegal-address' || err.reason === 'illegal-function')
      )
        return undefined;
      throw err;
    }
  };
}

/**
 * What one barrier says about itself, for `Driver.info()`: the profile's deviceInfo,
 * read once (at connect; if the unit was silent then, after its first answer), plus the
 * names of mappings the profile marks unverified and this device has not confirmed.
 */
export class UnitInfo {
  private values: Record<string, string> | undefined;
  private pending: Promise<void> | undefined;
  private readonly unverified: string[];

  constructor(
    private readonly profile: Profile,
    private readonly read: RangeReader,
    private readonly log: Logger,
    device: string,
  ) {
    this.unverified = profile.fields.filter((f) => f.unverified).map((f) => f.field);
    for (const f of profile.fields) {
      if (f.unverified)
        log.warn(
          { device, field: f.field, profile: profile.name },
          `${f.field} uses an unverified mapping (${f.unverified}); check it on site and confirm it with overrides.${f.field}`,
        );
    }
  }

  get loaded(): boolean {
    return this.values !== undefined || !this.profile.deviceInfo;
  }

  /** Never throws: a unit that is down now is asked again later. */
  load(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    this.pending ??= readDeviceInfo(this.profile.deviceInfo!, this.read)
      .then((v) => void (this.values = v))
      .catch((err: unknown) =>
        this.log.debug({ err: (err as Error).message }, 'device information not read yet'),
      )
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  get(): Record<string, string> | undefined {
    if (!this.values && this.unverified.length === 0) return undefined;
    const out: Record<string, string> = { ...this.values };
    if (this.unverified.length > 0) out.unverified = this.unverified.join(', ');
    return out;
  }
}
