export {
  MqttDeviceDriver,
  MqttDriverOptionsSchema,
  type MqttDriverOptions,
  type MqttDriverParams,
  type SubscribeFn,
} from './driver.ts';
export {
  loadMqttProfile,
  parseMqttProfile,
  MqttProfileSchema,
  DEFAULT_MQTT_PROFILE_DIR,
  type MqttProfile,
} from './profile.ts';
export { mapMessage, readPath } from './mapping.ts';
