import type { Profile } from './profile.ts';
import { decodeFields, emptyImage, planReads, type RegisterImage } from './registers.ts';
import type { Recognise } from './scan.ts';

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
