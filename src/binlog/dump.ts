// The replica side of a binlog dump on a mysql2 connection: the session settings a replica
// announces (checksum, MariaDB capability and GTID start, heartbeat period), COM_BINLOG_DUMP, and
// each event packet handed to a BinlogDecoder. The command is queued on the connection like
// mysql2's own commands; mysql2 frames the packets (including events over 16 MiB).
import { EventEmitter } from 'node:events';
import { Buffer } from 'node:buffer';
import mysql from 'mysql2';
import type { Connection, ConnectionOptions } from 'mysql2';
import { BinlogDecoder, type BinlogEvent } from './events.ts';

const COM_BINLOG_DUMP = 0x12;
/** BINLOG_DUMP_NON_BLOCK: an EOF packet at the end of the binlog instead of waiting */
const DUMP_NON_BLOCK = 0x01;
/** MariaDB: the replica understands GTID events (else the server rewrites them as BEGIN queries) */
const MARIADB_CAPABILITY_GTID = 4;

export type DumpStart = { file: string; position: number } | { gtid: string };

export interface DumpOptions {
  connection: ConnectionOptions;
  /** server id of this replica toward the source; unique among its replicas */
  serverId: number;
  start: DumpStart;
  /** heartbeat period asked of the source (0: none) */
  heartbeatMs?: number;
  /** stop with 'end' at the binlog's end instead of waiting for more */
  nonBlock?: boolean;
}

/** What a mysql2 packet offers the command (public methods of mysql2's Packet). */
interface Mysql2Packet {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
  isError(): boolean;
  asError(encoding?: string): Error;
}

/** The parts of mysql2's Connection a queued command uses. */
interface CommandHost {
  addCommand(cmd: object): void;
  writePacket(packet: object): void;
  _resetSequenceId(): void;
  threadId: number | null;
  pause(): void;
  resume(): void;
}

/** A command packet as mysql2's writePacket takes it: 4 header bytes, then the payload. */
class OutPacket {
  constructor(readonly buffer: Buffer) {}
  length(): number {
    return this.buffer.length;
  }
  writeHeader(sequenceId: number): void {
    this.buffer.writeUIntLE(this.buffer.length - 4, 0, 3);
    this.buffer[3] = sequenceId;
  }
}

function dumpPacket(position: number, flags: number, serverId: number, file: string): OutPacket {
  const name = Buffer.from(file, 'utf8');
  const b = Buffer.alloc(4 + 11 + name.length);
  b[4] = COM_BINLOG_DUMP;
  b.writeUInt32LE(position >>> 0, 5);
  b.writeUInt16LE(flags, 9);
  b.writeUInt32LE(serverId >>> 0, 11);
  name.copy(b, 15);
  return new OutPacket(b);
}

function query(conn: Connection, sql: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.query(sql, (err, rows) => (err ? reject(err) : resolve(rows)));
  });
}

/**
 * One binlog dump. Emits 'ready' (the BinlogDecoder, just before the dump request is sent),
 * 'event' (BinlogEvent, synchronously per packet), 'error' (connection
 * or server errors, and events that cannot be decoded), and 'end' (non-blocking dump reached the
 * end, or the connection closed after stop()).
 */
export class BinlogDump extends EventEmitter {
  readonly o: DumpOptions;
  private conn: (Connection & CommandHost) | undefined;
  private stopped = false;
  decoder: BinlogDecoder | undefined;
  /** the source's server flavour and version, known once started */
  mariadb = false;
  version = '';

  constructor(o: DumpOptions) {
    super();
    this.o = o;
  }

  /** Opens the connection, announces the replica and sends the dump request. Resolves once it is sent. */
  async start(): Promise<void> {
    const conn = mysql.createConnection({ ...this.o.connection }) as unknown as Connection & CommandHost;
    this.conn = conn;
    conn.on('error', (err: Error) => {
      if (!this.stopped) this.emit('error', err);
    });
    const [ver] = (await query(conn, 'SELECT VERSION() AS v, @@GLOBAL.binlog_checksum AS c')) as { v: string; c: string | null }[];
    this.version = String(ver?.v ?? '');
    this.mariadb = /mariadb/i.test(this.version);
    const checksum = ver?.c != null && String(ver.c).toUpperCase() !== 'NONE';
    if (checksum) await query(conn, 'SET @master_binlog_checksum = @@GLOBAL.binlog_checksum');
    if (this.o.heartbeatMs) await query(conn, `SET @master_heartbeat_period = ${BigInt(this.o.heartbeatMs) * 1_000_000n}`);
    const start = this.o.start;
    if (this.mariadb) {
      await query(conn, `SET @mariadb_slave_capability = ${MARIADB_CAPABILITY_GTID}`);
      if ('gtid' in start) {
        if (!/^[0-9,\s-]*$/.test(start.gtid)) throw new Error(`GTID position '${start.gtid}' is not of the form domain-server-sequence[,...]`);
        await query(conn, `SET @slave_connect_state = '${start.gtid}'`);
      }
    } else if ('gtid' in start) {
      throw new Error('GTID starts are supported on MariaDB sources only; start MySQL sources from a file and position');
    }
    if (this.stopped) return;
    const decoder = new BinlogDecoder({ checksum, mariadb: this.mariadb });
    this.decoder = decoder;
    // listeners set up what the first event needs now: it may arrive before start() resolves
    this.emit('ready', decoder);
    const file = 'file' in start ? start.file : '';
    const position = 'file' in start ? start.position : 4;
    const packet = dumpPacket(position, this.o.nonBlock ? DUMP_NON_BLOCK : 0, this.o.serverId, file);
    let sent = false;
    const command = {
      execute: (p: Mysql2Packet | undefined, c: CommandHost): boolean => {
        if (!sent) {
          sent = true;
          c._resetSequenceId();
          c.writePacket(packet);
          return false;
        }
        if (p === undefined) return false;
        return this.onPacket(p, decoder);
      },
    };
    conn.addCommand(command);
  }

  /** Returns true when the dump is over (EOF or error). */
  private onPacket(p: Mysql2Packet, decoder: BinlogDecoder): boolean {
    if (this.stopped) return true;
    if (p.isEOF()) {
      this.emit('end');
      return true;
    }
    if (p.isError()) {
      this.emit('error', p.asError('utf8'));
      return true;
    }
    let ev: BinlogEvent | undefined;
    try {
      // byte 0 is the OK marker in front of every event
      ev = decoder.decode(p.buffer, p.offset + 1, p.end);
    } catch (err) {
      this.emit('error', err);
      return true;
    }
    if (ev !== undefined) this.emit('event', ev);
    return false;
  }

  pause(): void {
    this.conn?.pause();
  }

  resume(): void {
    this.conn?.resume();
  }

  get threadId(): number | null {
    return this.conn?.threadId ?? null;
  }

  /**
   * Closes the connection. `kill` (a connection of the caller's) ends the dump thread on the
   * source too, which otherwise lingers until it next writes.
   */
  async stop(kill?: (sql: string) => Promise<unknown>): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    const threadId = conn.threadId;
    conn.removeAllListeners('error');
    conn.on('error', () => undefined);
    conn.destroy();
    if (kill && threadId) {
      await Promise.race([kill(`KILL ${Number(threadId)}`).catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
  }
}
