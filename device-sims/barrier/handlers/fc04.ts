import { readWords } from './common.ts';

/** Read Input Registers. */
export const fc04 = readWords('input');
