import { readDeviceInfo } from './device-info.ts';
import { identifyAmong } from './identify.ts';
import type { Profile } from './profile.ts';
import { decodeFields, emptyImage, planReads, type RegisterImage } from './registers.ts';
import type { Recognise, UnitRead } from './scan.ts';

/**
 * How a sweep tells what an answering unit is: by the profiles' `identify` signatures,
 * the one with the most checks first (the most specific); a unit no signature fits is
 * tried against the profiles that declare none, by their read plan.
 */
export function recogniser(profiles: readonly Profile[]): Recognise {
  const signed = profiles
    .filter((p) => p.identify?.length)
    .sort((a, b) => b.identify!.length - a.identify!.length || a.name.localeCompare(b.name));
  const unsigned = byReadPlan(profiles.filter((p) => !p.identify?.length));
  return async (read) => {
    const fits = await identifyAmong(signed, read);
    return fits.length > 0 ? fits : unsigned(read);
  };
}

/** What a recognised unit says about itself (firmware, serial…), as its profile's deviceInfo reads it. */
export function describer(profiles: readonly Profile[]) {
  const byName = new Map(profiles.map((p) => [p.name, p]));
  return async (profile: string, read: UnitRead): Promise<Record<string, string> | undefined> => {
    const items = byName.get(profile)?.deviceInfo;
    return items ? readDeviceInfo(items, read) : undefined;
  };
}

/**
 * Recognition for profiles that declare no signature: a unit fits a profile when it
 * serves every register the profile reads and its arm state decodes to a state the
 * profile names. Two vendors with the same register map both fit; the installer picks.
 */
export function byReadPlan(profiles: readonly Profile[]): Recognise {
  return async (read) => {
    const fits: string[] = [];
    for (const p of profiles) {
      const img: RegisterImage = emptyImage();
      let served = true;
      for (const r of planReads(p)) {
        const data = await read(r);
        if (!data) {
          served = false;
          break;
        }
        data.forEach((v, i) => (img[r.type] as Map<number, number | boolean>).set(r.address + i, v));
      }
      if (!served) continue;
      const arm = decodeFields(p, img).arm_state;
      if (arm !== undefined && arm !== 'unknown') fits.push(p.name);
    }
    return fits;
  };
}
