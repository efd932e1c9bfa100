// The config stage's public surface.
export { loadConfig, SERVER_FILE, INSTANCES_DIR, type LoadOptions } from './load.ts';
export { slaveIdFor } from './build.ts';
export { ConfigError, formatIssue, isSecretKey, type ConfigIssue } from './errors.ts';
export type { SluiceConfig, ServerConfig, InstanceConfig, StartRequest, LogLevel } from './types.ts';
