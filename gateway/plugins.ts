import { modbusPlugin } from '../drivers/modbus/plugin.ts';
import { onvifPlugin, onvifRelayPlugin } from '../drivers/onvif/plugin.ts';
import { mqttPlugin } from '../drivers/mqtt/plugin.ts';
import type { DriverPlugin } from '../drivers/contract/plugin.ts';

/** Every driver family the gateway knows. A new family is one line here; a new vendor is a profile file. */
export function createDriverPlugins(): DriverPlugin[] {
  return [modbusPlugin(), onvifPlugin(), onvifRelayPlugin(), mqttPlugin()];
}
