// The observe stage's public surface.
export { createLogger, instanceLogger, REDACT_PATHS, type Logger, type LoggerOptions } from './logger.ts';
export { SluiceMetrics, STATES, type MetricsOptions } from './metrics.ts';
export { LagReporter, type LagFields, type LagReporterOptions } from './lag-line.ts';
export { BinlogEndProbe, type ProbeTarget } from './binlog-probe.ts';
export { bytesBehind, type InstanceStats, type InstanceStatsSource, type BinlogFileSize } from './instance-stats.ts';
