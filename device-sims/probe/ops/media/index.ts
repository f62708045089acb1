import type { Operation } from '../types.ts';
import { GetProfile } from './GetProfile.ts';
import { GetProfiles } from './GetProfiles.ts';
import { GetSnapshotUri } from './GetSnapshotUri.ts';
import { GetStreamUri } from './GetStreamUri.ts';
import { GetVideoEncoderConfigurations } from './GetVideoEncoderConfigurations.ts';
import { GetVideoSourceConfigurations } from './GetVideoSourceConfigurations.ts';
import { GetVideoSources } from './GetVideoSources.ts';

export const mediaOps: Record<string, Operation> = {
  GetProfile,
  GetProfiles,
  GetSnapshotUri,
  GetStreamUri,
  GetVideoEncoderConfigurations,
  GetVideoSourceConfigurations,
  GetVideoSources,
};
