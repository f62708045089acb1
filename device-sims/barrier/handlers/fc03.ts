import { readWords } from './common.ts';

/** Read Holding Registers. */
export const fc03 = readWords('holding');
