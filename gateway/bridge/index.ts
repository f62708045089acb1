export { Bridge, type BridgeOptions, type BridgeBroker } from './bridge.ts';
export { BridgeConfigSchema, type BridgeConfig } from './config.ts';
export { DiskQueue, type QueuedMessage, type QueueEntry } from './queue.ts';
