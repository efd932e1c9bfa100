// Asks a source for its binlog files and sizes (SHOW BINARY LOGS) over one small connection,
// opened on first use and reopened after a failure, so the lag line costs one query per interval.
import mysql from 'mysql2/promise';
import type { BinlogFileSize } from './instance-stats.ts';

export interface ProbeTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  connectTimeoutMs?: number;
}

export class BinlogEndProbe {
  private conn: mysql.Connection | undefined;

  constructor(private readonly target: ProbeTarget) {}

  async list(): Promise<BinlogFileSize[]> {
    try {
      this.conn ??= await mysql.createConnection({
        host: this.target.host,
        port: this.target.port,
        user: this.target.user,
        password: this.target.password,
        connectTimeout: this.target.connectTimeoutMs ?? 10_000,
      });
      const [rows] = await this.conn.query('SHOW BINARY LOGS');
      return (rows as { Log_name: string; File_size: number | string }[]).map((r) => ({ name: r.Log_name, size: Number(r.File_size) }));
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = undefined;
    if (c) await c.end().catch(() => c.destroy());
  }
}
