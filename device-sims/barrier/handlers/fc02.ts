import { readBits } from './common.ts';

/** Read Discrete Inputs. */
export const fc02 = readBits('discrete');
