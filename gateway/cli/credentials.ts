import { randomBytes } from 'node:crypto';

export interface Credentials {
  apiToken: string;
  mqttUser: string;
  mqttPassword: string;
  /** Which values were generated here (and so must be shown once). */
  generated: ('apiToken' | 'mqttPassword')[];
}

const secret = () => randomBytes(18).toString('base64url');

/**
 * The demo's and a bare config's credentials: from GATEHOUSE_API_TOKEN,
 * GATEHOUSE_MQTT_USER and GATEHOUSE_MQTT_PASSWORD when set, else generated.
 */
export function credentialsFromEnv(env = process.env): Credentials {
  const generated: Credentials['generated'] = [];
  const apiToken = env.GATEHOUSE_API_TOKEN || (generated.push('apiToken'), secret());
  const mqttPassword = env.GATEHOUSE_MQTT_PASSWORD || (generated.push('mqttPassword'), secret());
  return { apiToken, mqttUser: env.GATEHOUSE_MQTT_USER || 'gatehouse', mqttPassword, generated };
}
