import type { Operation } from '../types.ts';
import { GetCapabilities } from './GetCapabilities.ts';
import { GetDeviceInformation } from './GetDeviceInformation.ts';
import { GetHostname } from './GetHostname.ts';
import { GetNetworkInterfaces } from './GetNetworkInterfaces.ts';
import { GetRelayOutputs } from './GetRelayOutputs.ts';
import { GetScopes } from './GetScopes.ts';
import { GetServices } from './GetServices.ts';
import { GetSystemDateAndTime } from './GetSystemDateAndTime.ts';
import { SetRelayOutputSettings } from './SetRelayOutputSettings.ts';
import { SetRelayOutputState } from './SetRelayOutputState.ts';
import { SystemReboot } from './SystemReboot.ts';

export const deviceOps: Record<string, Operation> = {
  GetCapabilities,
  GetDeviceInformation,
  GetHostname,
  GetNetworkInterfaces,
  GetRelayOutputs,
  GetScopes,
  GetServices,
  GetSystemDateAndTime,
  SetRelayOutputSettings,
  SetRelayOutputState,
  SystemReboot,
};
