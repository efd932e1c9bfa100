// The ceiling: the server's own C++ decoder, `mariadb-binlog -v`, reading the same file over
// loopback from the running server and writing its text to /dev/null (as mariadb-and-zongji.md §5).
import { spawn } from 'node:child_process';
import { dieWithParent } from '../src/cli/parent-death.ts';
import { openSync, closeSync } from 'node:fs';
import type { SourceConn } from './measures.ts';

export interface CeilingResult {
  seconds: number;
  cpuSeconds: number;
}

function runOnce(conn: SourceConn, file: string, out: number | 'pipe', deadlineMs: number, onLine?: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // The password goes through the environment, never the command line (visible in ps).
    const proc = spawn(
      ...dieWithParent('mariadb-binlog', [
        '--no-defaults',
        '--read-from-remote-server',
        `--host=${conn.host}`,
        `--port=${conn.port}`,
        `--user=${conn.user}`,
        '--base64-output=decode-rows',
        '-v',
        file,
      ]),
      { stdio: ['ignore', out, 'pipe'], env: { ...process.env, MYSQL_PWD: conn.password } },
    );
    let stderr = '';
    let partial = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      if (onLine) for (const l of lines) onLine(l);
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), deadlineMs);
    proc.on('error', (err) => reject(new Error(`mariadb-binlog could not start: ${err.message}`)));
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0) resolve(seconds);
      else reject(new Error(`mariadb-binlog ${file} exited with code ${code} signal ${signal}: ${stderr.trim()}`));
    });
  });
}

/** Wall time of one full decode of `file` to /dev/null (process start included, as with /usr/bin/time). */
export async function decodeWithMariadbBinlog(conn: SourceConn, file: string, deadlineMs: number): Promise<number> {
  const devNull = openSync('/dev/null', 'w');
  try {
    return await runOnce(conn, file, devNull, deadlineMs);
  } finally {
    closeSync(devNull);
  }
}

/**
 * How many rows of `schema.table` mariadb-binlog decodes in `file` (not timed: checks that the
 * ceiling decodes the same rows as every other decoder).
 */
export async function countDecodedRows(conn: SourceConn, file: string, schema: string, table: string, deadlineMs: number): Promise<number> {
  const marker = `### INSERT INTO \`${schema}\`.\`${table}\``;
  let n = 0;
  await runOnce(conn, file, 'pipe', deadlineMs, (line) => {
    if (line.startsWith(marker)) n++;
  });
  return n;
}
