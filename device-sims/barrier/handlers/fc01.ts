import { readBits } from './common.ts';

/** Read Coils. */
export const fc01 = readBits('coil');
