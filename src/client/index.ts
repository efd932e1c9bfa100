// The client's public surface: what `import ... from 'sluice/client'` users need.
export { CanalClient, type CanalClientOptions, type CanalClientEvents, type ReconnectInfo, type ReconnectPolicy, type StreamOptions } from './canal-client.ts';
export { CanalBatch, toCanalEntry, type CanalEntry, type CanalRow, type EntryTypeName, type EventTypeName, type RowValues } from './entry.ts';
export { CanalAuthError, CanalConnectionError, CanalError, CanalNotActiveError, CanalProtocolError, CanalReconnectError, CanalServerError, CanalTimeoutError, isRetryable } from './errors.ts';
export type { ServerAddress } from './server-locator.ts';
export type { ZooKeeperClientOptions } from './zk-link.ts';
