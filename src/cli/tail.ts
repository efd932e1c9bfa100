// `sluice tail`: follow a destination over the Canal protocol, print each entry, and
// acknowledge what was printed. Delivery is at-least-once: entries printed but not yet
// acknowledged when the connection drops are printed again after the reconnect.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CanalClient } from '../client/canal-client.ts';
import type { CanalEntry, RowValues } from '../client/entry.ts';

export interface TailOptions {
  host: string;
  port: number;
  destination: string;
  user?: string;
  password?: string;
  clientId: string;
  filter?: string;
  batchSize: number;
  limit?: number;
  idleExit?: number;
  format: 'text' | 'json';
}

export interface TailIO {
  out: Writable;
  err: Writable;
  /** resolves when the user asks to stop (SIGINT/SIGTERM) */
  stop?: Promise<unknown>;
}

/** The JSON line of one entry: exactly these fields, in this order. */
export function entryJson(e: CanalEntry): string {
  return JSON.stringify({
    entryType: e.entryType,
    logfileName: e.logfileName,
    logfileOffset: e.logfileOffset,
    executeTime: e.executeTime,
    schemaName: e.schemaName,
    tableName: e.tableName,
    eventType: e.eventType,
    isDdl: e.isDdl,
    sql: e.sql,
    gtid: e.gtid,
    transactionId: e.transactionId,
    rows: e.rows.map((r) => ({ before: r.before, after: r.after })),
  });
}

function values(v: RowValues): string {
  return JSON.stringify(v);
}

/** One readable line per entry. */
export function entryText(e: CanalEntry): string {
  const where = `${e.logfileName}:${e.logfileOffset}`;
  const when = e.executeTime > 0 ? new Date(e.executeTime).toISOString() : '-';
  const gtid = e.gtid !== '' ? ` gtid=${e.gtid}` : '';
  if (e.entryType === 'TRANSACTIONBEGIN') return `${when} ${where} BEGIN${gtid}`;
  if (e.entryType === 'TRANSACTIONEND') return `${when} ${where} COMMIT${e.transactionId !== '' ? ` xid=${e.transactionId}` : ''}${gtid}`;
  const table = e.schemaName !== '' || e.tableName !== '' ? ` ${e.schemaName}${e.tableName !== '' ? '.' + e.tableName : ''}` : '';
  if (e.isDdl || e.rows.length === 0) return `${when} ${where} ${e.eventType ?? e.entryType}${e.isDdl ? ' DDL' : ''}${table}: ${e.sql.replace(/\s+/g, ' ')}`;
  const rows = e.rows.map((r) => {
    if (e.eventType === 'INSERT') return values(r.after);
    if (e.eventType === 'DELETE') return values(r.before);
    return `${values(r.before)} -> ${values(r.after)}`;
  });
  return `${when} ${where} ${e.eventType}${table} ${rows.join(' ; ')}`;
}

async function write(out: Writable, text: string): Promise<void> {
  if (text === '') return;
  if (!out.write(text)) await once(out, 'drain');
}

/** Runs the tail until --limit, --idle-exit or a stop request; returns the exit code. */
export async function runTail(o: TailOptions, io: TailIO): Promise<number> {
  const client = new CanalClient({
    host: o.host,
    port: o.port,
    destination: o.destination,
    clientId: o.clientId,
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    reconnect: { initialDelayMs: 200, maxDelayMs: 5_000 },
  });
  client.on('reconnecting', (info) => io.err.write(`sluice tail: connection lost (${info.error.message}); reconnecting, attempt ${info.attempt} in ${info.delayMs} ms\n`));
  let stopRequested = false;
  void io.stop?.then(() => {
    stopRequested = true;
    // Not connected means reconnecting: stop that instead of waiting for a batch that will not come.
    if (!client.connected) void client.disconnect();
  });
  const format = o.format === 'json' ? entryJson : entryText;
  const waitMs = o.idleExit !== undefined ? Math.max(1, Math.min(1000, o.idleExit)) : 1000;
  let printed = 0;
  let lastData = Date.now();
  try {
    await client.connect();
    await client.subscribe(o.filter ?? '');
    // Near the limit, ask for no more entries than rows still wanted, so that a batch rarely
    // holds rows past the limit (which would have to be given back, see below).
    const batchSize = (): number => (o.limit === undefined ? o.batchSize : Math.max(1, Math.min(o.batchSize, o.limit - printed)));
    for await (const batch of client.stream({ batchSize, timeoutMs: waitMs, yieldEmpty: true })) {
      if (batch.id === -1) {
        if (stopRequested || (o.idleExit !== undefined && Date.now() - lastData >= o.idleExit)) break;
        continue;
      }
      lastData = Date.now();
      let text = '';
      let complete = true;
      for (let i = 0; i < batch.size; i++) {
        const e = batch.entry(i);
        // At the limit, entries without rows (a COMMIT) may still be printed; the next row may not.
        if (o.limit !== undefined && printed >= o.limit && e.rows.length > 0) {
          complete = false;
          break;
        }
        text += format(e) + '\n';
        printed += e.rows.length;
      }
      await write(io.out, text);
      const done = (o.limit !== undefined && printed >= o.limit) || stopRequested;
      if (done) {
        if (complete) await client.ack(batch.id);
        else {
          // Entries past the limit were not printed: give the batch back rather than acknowledge them.
          await client.rollback(batch.id);
          io.err.write(`sluice tail: stopped at the limit inside batch ${batch.id}; its entries will be delivered again\n`);
        }
        break;
      }
    }
    // Acks have no reply: make sure the server took them before claiming they were made.
    await client.sync();
    await client.disconnect();
    return 0;
  } catch (e) {
    io.err.write(`sluice tail: ${(e as Error).message}\n`);
    await client.disconnect().catch(() => undefined);
    return 1;
  }
}

function positiveInt(what: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive integer`);
    return n;
  };
}

export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('print the change stream of a destination over the Canal protocol and acknowledge it (at-least-once)')
    .option('--host <host>', 'server address', '127.0.0.1')
    .option('--port <port>', 'server port', positiveInt('--port'), 11111)
    .requiredOption('--destination <name>', 'destination (instance) to follow')
    .option('--user <user>', 'user name for the server')
    .option('--password <password>', 'password for the server (or env SLUICE_PASSWORD; arguments show up in process lists)')
    .option('--client-id <id>', 'Canal client id', '1001')
    .option('--filter <regex>', 'narrow to schema.table names matching these Canal regexes (comma-separated)')
    .option('--batch-size <n>', 'entries (or KiB, by the server batch mode) per get', positiveInt('--batch-size'), 1000)
    .option('--limit <rows>', 'exit 0 once this many rows are printed and acknowledged', positiveInt('--limit'))
    .option('--idle-exit <ms>', 'exit 0 after this long without data', positiveInt('--idle-exit'))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (opts: Omit<TailOptions, 'format'> & { format: string }) => {
      const password = opts.password ?? process.env.SLUICE_PASSWORD;
      const stop = new Promise((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      process.exitCode = await runTail(
        { ...opts, format: opts.format === 'json' ? 'json' : 'text', ...(password !== undefined ? { password } : {}) },
        { out: process.stdout, err: process.stderr, stop },
      );
    });
}
