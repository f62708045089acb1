export { MqttSink, type MqttSinkOptions, type InProcessBroker } from './sink.ts';
export { parseCommand, type CommandRejection } from './commands.ts';
export type { DeviceState } from './payloads.ts';
