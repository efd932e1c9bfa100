// Names the config key behind a port that could not be bound, in the form the user wrote
// (sluice.json or canal.properties).
import type { SluiceConfig } from '../config/index.ts';
import type { ListenError } from '../observe/listen-error.ts';

const JSON_KEYS = { listen: 'listen.port', tls: 'tls.port', admin: 'admin.port' } as const;
const CANAL_KEYS = { listen: 'canal.port', tls: 'tls.port', admin: 'canal.metrics.pull.port' } as const;

export function listenKeyHint(cfg: Pick<SluiceConfig, 'format'>, err: ListenError): string {
  const canal = cfg.format === 'canal-properties';
  const key = (canal ? CANAL_KEYS : JSON_KEYS)[err.role];
  const file = canal && err.role !== 'tls' ? 'canal.properties' : 'sluice.json';
  const cure = err.code === 'EADDRINUSE' ? 'stop the process using it or choose another port' : 'choose an address and port this host can bind';
  return `set by ${key} in ${file}: ${cure}`;
}
