// A chunk as Canal entries: a transaction of its own (BEGIN, ROWDATA INSERTs, END), every entry
// marked as snapshot rows in its properties, positioned at the stream point it follows. Its END
// is a cursor boundary: acknowledging it resumes the stream right after that point.
import { EntryType, EventType, entryPosition, type EntryPosition, type Header, type Pair, type ParsedEntry, type RowData } from '../protocol/entry-model.ts';
import type { Chunk } from './chunk-reader.ts';
import type { StreamPoint } from './snapshot-feed.ts';

/** MySQL, Canal's Header.sourceType for MariaDB and MySQL sources. */
const SOURCE_TYPE_MYSQL = 2;
/** rows per ROWDATA entry: large enough to batch well, small enough to keep entries far below a frame's bound */
export const ROWS_PER_ENTRY = 500;

/** The property that marks snapshot entries (value "true"), the one naming the snapshot, and each entry's stamp. */
export const SNAPSHOT_PROP = 'snapshot';
export const SNAPSHOT_ID_PROP = 'snapshotId';
export const SNAPSHOT_SEQ_PROP = 'snapshotSeq';

let lastStamp = 0;

/**
 * A number that grows with every snapshot entry, also across restarts (microseconds of the wall
 * clock, or one more than the last): the entries of chunks emitted at one stream point share its
 * log position, and a consumer that skips what it already applied by position orders them by it.
 */
export function entryStamp(): number {
  lastStamp = Math.max(lastStamp + 1, Date.now() * 1000);
  return lastStamp;
}

/** The marker a chunk's positions carry in their own-transaction GTID field: it tells the ack of that chunk apart. */
const MARKER_PREFIX = 'sluice-snapshot:';

/** The marker of chunk `seq`'s end; its other entries carry OPEN_SUFFIX after it. */
export function chunkMarker(seq: number, end = true): string {
  return end ? `${MARKER_PREFIX}${seq}` : `${MARKER_PREFIX}${seq}${OPEN_SUFFIX}`;
}

const OPEN_SUFFIX = ':open';

/**
 * The last chunk an acknowledgement ending at `p` covers whole, if `p` is a chunk's: its own for
 * the chunk's end, the one before for an entry inside it (an acknowledgement may end mid-chunk).
 */
export function markerSeq(p: Pick<EntryPosition, 'gtid'>): number | undefined {
  if (!p.gtid.startsWith(MARKER_PREFIX)) return undefined;
  const rest = p.gtid.slice(MARKER_PREFIX.length);
  return rest.endsWith(OPEN_SUFFIX) ? Number(rest.slice(0, -OPEN_SUFFIX.length)) - 1 : Number(rest);
}

export interface ChunkLabel {
  snapshotId: string;
  seq: number;
}

export function buildChunkEntries(chunk: Chunk, keep: (i: number) => boolean, point: StreamPoint, label: ChunkLabel): ParsedEntry[] {
  const { schema, table } = chunk.shape;
  const position = entryPosition(point.file, point.offset, point.offset, point.serverId, point.timestamp, chunkMarker(label.seq, false), point.gtidSet);
  const endPosition = entryPosition(point.file, point.offset, point.offset, point.serverId, point.timestamp, chunkMarker(label.seq), point.gtidSet);
  const marks = (): Pair[] => [
    { key: SNAPSHOT_PROP, value: 'true' },
    { key: SNAPSHOT_ID_PROP, value: label.snapshotId },
    { key: SNAPSHOT_SEQ_PROP, value: String(entryStamp()) },
  ];
  const now = Date.now();
  const header = (names: { schema: string; table: string }, extra?: Partial<Header>): Header => {
    const h: Header = {
      version: 1,
      logfileName: point.file,
      logfileOffset: point.offset,
      serverId: point.serverId,
      serverenCode: 'UTF-8',
      executeTime: now,
      sourceType: SOURCE_TYPE_MYSQL,
      schemaName: names.schema,
      tableName: names.table,
      eventLength: 0,
      ...extra,
    };
    if (point.gtidSet !== '') h.gtid = point.gtidSet;
    return h;
  };
  const out: ParsedEntry[] = [{ entryType: EntryType.TRANSACTIONBEGIN, header: header({ schema: '', table: '' }), begin: { props: marks() }, position }];
  let batch: RowData[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const m = marks();
    out.push({
      entryType: EntryType.ROWDATA,
      header: header({ schema, table }, { eventType: EventType.INSERT, props: [{ key: 'rowsCount', value: String(batch.length) }, ...m] }),
      rowChange: { eventType: EventType.INSERT, isDdl: false, rowDatas: batch, props: m },
      position,
    });
    batch = [];
  };
  for (let i = 0; i < chunk.rows.length; i++) {
    if (!keep(i)) continue;
    batch.push(chunk.rows[i]!);
    if (batch.length >= ROWS_PER_ENTRY) flush();
  }
  flush();
  out.push({ entryType: EntryType.TRANSACTIONEND, header: header({ schema: '', table: '' }), end: { transactionId: label.snapshotId, props: marks() }, position: endPosition });
  return out;
}
