// What every config-reading command shares: the --config option and turning a ConfigError into
// a readable message and exit code 2 (1 is kept for "ran, and found something wrong").
import type { Command } from 'commander';
import { ConfigError, loadConfig, type SluiceConfig } from '../config/index.ts';

export const DEFAULT_CONFIG_DIR = process.env['SLUICE_CONFIG'] ?? 'config';
export const EXIT_CONFIG = 2;

export function addConfigOption(cmd: Command): Command {
  return cmd.option('-c, --config <dir>', 'config directory: sluice.json + instances/*.json, or a Canal conf dir with canal.properties ($SLUICE_CONFIG)', DEFAULT_CONFIG_DIR);
}

/** Loads the config or prints why not and exits 2. */
export async function loadConfigOrExit(dir: string): Promise<SluiceConfig> {
  try {
    return await loadConfig(dir);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sluice: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}
