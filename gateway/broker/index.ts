export {
  GatehouseBroker,
  type GatehouseBrokerOptions,
  type InProcessMessage,
  type MessageHandler,
} from './broker.ts';
export {
  BrokerConfigSchema,
  BrokerUserSchema,
  MQTT_ROLES,
  topicPrefix,
  type BrokerConfig,
  type BrokerUser,
  type MqttRole,
} from './config.ts';
export { hashPassword, verifyPassword } from './passwords.ts';
export { mayPublish, maySubscribe, type MqttIdentity } from './acl.ts';
export { attachMqttWebSocket } from './websocket.ts';
export { topicMatches } from './topics.ts';
