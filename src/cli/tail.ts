// `sluice tail`: follow a destination over the Canal protocol, print each entry, and
// acknowledge what was printed. Delivery is at-least-once: entries printed but not yet
// acknowledged when the connection drops are printed again after the reconnect. The server is
// one host/port, a list tried in turn, or the active server of a cluster found in ZooKeeper;
// with --exclusive several tails with the same client id stand by for each other.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CanalClient, type CanalClientOptions } from '../client/canal-client.ts';
import type { CanalEntry, RowValues } from '../client/entry.ts';
import { CanalAuthError, CanalConnectionError } from '../client/errors.ts';

export interface TailOptions {
  /** one server (default 127.0.0.1:11111 when neither servers nor zk is given) */
  host?: string;
  port?: number;
  /** "h1:p1,h2:p2": tried in turn */
  servers?: string;
  /** ZooKeeper connect string: follow the destination's running node */
  zk?: string;
  zkSessionTimeout?: number;
  /** stand by while another process with the same client id consumes (needs zk) */
  exclusive?: boolean;
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
  const where = serverOptions(o);
  if (typeof where === 'string') {
    io.err.write(`sluice tail: ${where}\n`);
    return 1;
  }
  let client: CanalClient;
  try {
    client = new CanalClient({
      ...where,
      destination: o.destination,
      clientId: o.clientId,
      ...(o.user !== undefined ? { user: o.user } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      reconnect: { initialDelayMs: 200, maxDelayMs: 5_000 },
    });
  } catch (e) {
    // Options the client refuses (an address that is not host:port, a client id exclusive cannot use).
    io.err.write(`sluice tail: ${(e as Error).message}\n`);
    return 1;
  }
  let everConnected = false;
  let standingBy: string | undefined;
  client.on('reconnecting', (info) => {
    const what = everConnected ? 'connection lost' : 'not connected yet';
    io.err.write(`sluice tail: ${what} (${info.error.message}); reconnecting, attempt ${info.attempt} in ${info.delayMs} ms\n`);
  });
  client.on('connected', (server) => {
    everConnected = true;
    standingBy = undefined;
    if (o.servers !== undefined || o.zk !== undefined) io.err.write(`sluice tail: connected to ${server}\n`);
  });
  client.on('standby', (holder) => {
    // Said once per holder, not at every look at the node.
    if (holder !== standingBy) io.err.write(`sluice tail: standing by: another consumer (${holder}) holds ${o.destination}/${o.clientId}\n`);
    standingBy = holder;
  });
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
    // Near the limit, ask for no more than the rows still wanted. Canal acknowledges whole
    // batches only, so the batch that reaches the limit is printed to its end and acknowledged:
    // printed and acknowledged are always the same entries. (In MEMSIZE mode the fetch size
    // counts memory units, so even a fetch of 1 can hold several rows past the limit.)
    const batchSize = (): number => (o.limit === undefined ? o.batchSize : Math.max(1, Math.min(o.batchSize, o.limit - printed)));
    for await (const batch of client.stream({ batchSize, timeoutMs: waitMs, yieldEmpty: true })) {
      if (batch.id === -1) {
        if (stopRequested || (o.idleExit !== undefined && Date.now() - lastData >= o.idleExit)) break;
        continue;
      }
      lastData = Date.now();
      let text = '';
      for (let i = 0; i < batch.size; i++) {
        const e = batch.entry(i);
        text += format(e) + '\n';
        printed += e.rows.length;
      }
      await write(io.out, text);
      if ((o.limit !== undefined && printed >= o.limit) || stopRequested) {
        await client.ack(batch.id);
        break;
      }
    }
    // Acks have no reply: make sure the server took them before claiming they were made.
    await client.sync();
    await client.disconnect();
    return 0;
  } catch (e) {
    await client.disconnect().catch(() => undefined);
    // Asked to stop while connecting, reconnecting or standing by: that is a clean exit.
    if (stopRequested && e instanceof CanalConnectionError) return 0;
    io.err.write(`sluice tail: ${(e as Error).message}${e instanceof CanalAuthError ? authHint(o) : ''}\n`);
    return 1;
  }
}

/** What to change when the server refused the login: tail's own flags and variable. */
function authHint(o: TailOptions): string {
  const how = 'pass --user NAME and put the password in SLUICE_PASSWORD (or --password)';
  return o.user === undefined || o.user === '' ? `; the server requires a user: ${how}` : `; check --user and the password (SLUICE_PASSWORD or --password)`;
}

/** Where to connect, from --host/--port, --servers or --zk; a string is the error to print. */
function serverOptions(o: TailOptions): Pick<CanalClientOptions, 'host' | 'port' | 'servers' | 'zk' | 'exclusive'> | string {
  const single = o.host !== undefined || o.port !== undefined;
  if ([single, o.servers !== undefined, o.zk !== undefined].filter(Boolean).length > 1) return 'give one of --host/--port, --servers or --zk';
  if (o.exclusive === true && o.zk === undefined) return '--exclusive needs --zk (the consumers stand by for each other through ZooKeeper)';
  if (o.zkSessionTimeout !== undefined && o.zk === undefined) return '--zk-session-timeout needs --zk';
  if (o.zk !== undefined) return { zk: { connect: o.zk, ...(o.zkSessionTimeout !== undefined ? { sessionTimeoutMs: o.zkSessionTimeout } : {}) }, exclusive: o.exclusive === true };
  if (o.servers !== undefined) return { servers: o.servers };
  return { host: o.host ?? '127.0.0.1', port: o.port ?? 11111 };
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
    .option('--host <host>', 'server address (default 127.0.0.1)')
    .option('--port <port>', 'server port (default 11111)', positiveInt('--port'))
    .option('--servers <list>', 'servers tried in turn, host:port,host:port (instead of --host/--port)')
    .option('--zk <connect>', 'ZooKeeper connect string of a cluster: follow the server its running node names (instead of --host/--port)')
    .option('--zk-session-timeout <ms>', 'ZooKeeper session timeout (default 10000): how soon a killed --exclusive tail is replaced', positiveInt('--zk-session-timeout'))
    .option('--exclusive', 'with --zk: stand by while another process with this destination and client id consumes')
    .requiredOption('--destination <name>', 'destination (instance) to follow')
    .option('--user <user>', 'user name for the server')
    .option('--password <password>', 'password for the server (or env SLUICE_PASSWORD; arguments show up in process lists)')
    .option('--client-id <id>', 'Canal client id', '1001')
    .option('--filter <regex>', 'narrow to schema.table names matching these Canal regexes (comma-separated)')
    .option('--batch-size <n>', 'entries (or KiB, by the server batch mode) per get', positiveInt('--batch-size'), 1000)
    .option('--limit <rows>', 'exit 0 once at least this many rows are printed and acknowledged (the batch holding the last one is printed whole)', positiveInt('--limit'))
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
