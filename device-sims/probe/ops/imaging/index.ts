import type { Operation } from '../types.ts';
import { GetImagingSettings } from './GetImagingSettings.ts';
import { GetOptions } from './GetOptions.ts';
import { SetImagingSettings } from './SetImagingSettings.ts';

export const imagingOps: Record<string, Operation> = { GetImagingSettings, GetOptions, SetImagingSettings };
