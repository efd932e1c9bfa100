// Exact cursor durability between two meta.dat writes. Every acknowledgement appends its cursor
// as one JSON line to <dataDir>/<destination>/cursors.<n>.jsonl with a single write(2): the
// line is in the kernel before the next reply to that client, so a crash of sluice (SIGKILL, OOM,
// a bug) cannot lose it, for about 3 µs an ack where rewriting meta.dat costs a file creation
// and rename (about a millisecond on a busy disk). meta.dat stays the Canal-shaped, fsynced record,
// written once per flush interval. Reading replays whatever journals remain over meta.dat, each
// client's last line winning: a line is never older than the cursor meta.dat holds for that client
// unless meta.dat was written after it, and then a later line (or none) follows it. So a write of
// meta.dat need not start a new journal: one file takes lines until it holds ROTATE_BYTES, and
// only then does a write switch to a new file as it captures the cursors and remove the older
// ones once meta.dat is on disk. Why: creating and removing a file per destination per flush
// interval was most of what cursors cost a process with many destinations (ext4 searches its inode
// bitmap past recently deleted inodes on every create). A client that unsubscribes must not come
// back from its old lines, so the next write after that switches files too. A power loss can
// still lose the unsynced tail (up to one flush interval, as Canal's periodic flush), never a
// cursor meta.dat already held.
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogPosition } from '../protocol/entry-model.ts';

const JOURNAL_RE = /^cursors\.(\d+)\.jsonl$/;

/** A journal file holding this much starts a new one at the next meta.dat write (see the top). */
export const ROTATE_BYTES = 256 * 1024;

export interface JournalLine {
  clientId: string;
  cursor: LogPosition;
}

function journalName(seq: number): string {
  return `cursors.${seq}.jsonl`;
}

/** The journal files of a destination folder, oldest first. */
async function journalSeqs(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const seqs: number[] = [];
  for (const n of names) {
    const m = JOURNAL_RE.exec(n);
    if (m) seqs.push(Number(m[1]));
  }
  return seqs.sort((a, b) => a - b);
}

function parseLine(text: string): JournalLine | undefined {
  try {
    const v = JSON.parse(text) as { c?: unknown; p?: unknown };
    const p = v.p as Partial<LogPosition> | undefined;
    if (typeof v.c !== 'string' || p === undefined || typeof p.journalName !== 'string' || typeof p.position !== 'number') return undefined;
    const cursor: LogPosition = {
      journalName: p.journalName,
      position: p.position,
      serverId: typeof p.serverId === 'number' ? p.serverId : 0,
      timestamp: typeof p.timestamp === 'number' ? p.timestamp : 0,
      gtid: typeof p.gtid === 'string' ? p.gtid : '',
    };
    if (typeof p.nextPosition === 'number') cursor.nextPosition = p.nextPosition;
    if (typeof p.skip === 'number' && p.skip > 0) cursor.skip = p.skip;
    // a group destination's per-source parts, as this module wrote them
    if (Array.isArray(p.sources)) cursor.sources = p.sources;
    return { clientId: v.c, cursor };
  } catch {
    return undefined;
  }
}

/**
 * Every cursor line left in the destination's journals, oldest first. A torn last line (the
 * process died inside write(2), which a single small write makes very unlikely) is ignored.
 */
export async function readJournals(dataDir: string, destination: string): Promise<JournalLine[]> {
  const dir = join(dataDir, destination);
  const out: JournalLine[] = [];
  for (const seq of await journalSeqs(dir)) {
    let text: string;
    try {
      text = await readFile(join(dir, journalName(seq)), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const l = parseLine(line);
      if (l !== undefined) out.push(l);
    }
  }
  return out;
}

/** Removes every journal of a destination (after `sluice positions reset`, whose meta.dat must win). */
export async function removeJournals(dataDir: string, destination: string): Promise<void> {
  const dir = join(dataDir, destination);
  for (const seq of await journalSeqs(dir)) await unlink(join(dir, journalName(seq))).catch(() => undefined);
}

export class CursorJournal {
  private fd: number | undefined;
  private seq: number;
  /** bytes appended to the current file */
  private written = 0;
  /** journals older than the current file exist (left by an earlier run) */
  private older: boolean;
  /** the next meta.dat write must start a new file (a client left) */
  private switchDue = false;

  private constructor(
    private readonly dir: string,
    firstSeq: number,
    older: boolean,
  ) {
    this.seq = firstSeq;
    this.older = older;
  }

  /** Opens a new journal after any that exist (those stay until the next meta.dat write covers them). */
  static async open(dataDir: string, destination: string): Promise<CursorJournal> {
    const dir = join(dataDir, destination);
    await mkdir(dir, { recursive: true });
    const seqs = await journalSeqs(dir);
    return new CursorJournal(dir, (seqs[seqs.length - 1] ?? 0) + 1, seqs.length > 0);
  }

  /** Appends one cursor with a single write; throws when the line could not be written. */
  append(clientId: string, cursor: LogPosition): void {
    this.fd ??= openSync(join(this.dir, journalName(this.seq)), 'a', 0o600);
    const line = `${JSON.stringify({ c: clientId, p: cursor })}\n`;
    const bytes = Buffer.from(line, 'utf8');
    const n = writeSync(this.fd, bytes);
    this.written += Math.max(0, n);
    if (n !== bytes.length) throw new Error(`short write to the cursor journal (${n} of ${bytes.length} bytes)`);
  }

  /** A client left: its lines must not outlive the next meta.dat write. */
  clientRemoved(): void {
    this.switchDue = true;
  }

  /**
   * Called as a meta.dat write captures the cursors. When the current file is full (or a client
   * left) it starts a new one; returns the sequence number below which every journal is covered
   * by that meta.dat (remove them with removeBelow once it is written), or undefined when there is
   * nothing to remove.
   */
  rotate(): number | undefined {
    if (this.switchDue || this.written >= ROTATE_BYTES) {
      this.closeFile();
      this.seq++;
      this.written = 0;
      this.switchDue = false;
      this.older = true;
    }
    if (!this.older) return undefined;
    this.older = false;
    return this.seq;
  }

  /** The meta.dat write that rotate() was called for failed: the older journals are still needed. */
  uncovered(): void {
    this.older = true;
  }

  async removeBelow(seq: number): Promise<void> {
    for (const s of await journalSeqs(this.dir)) if (s < seq) await unlink(join(this.dir, journalName(s))).catch(() => undefined);
  }

  close(): void {
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // already unusable: nothing left to keep
    }
    this.fd = undefined;
  }
}
