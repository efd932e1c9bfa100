// Where a MetaStore keeps its subscriptions and cursors besides meta.dat. In a ZooKeeper cluster
// that is ZooKeeper (zk-meta-backend.ts): the primary copy, read at start and written before
// meta.dat, which then stays as a secondary, local copy.
import type { ClientMeta, MetaContent, SnapshotRecord } from './meta-file.ts';

export interface MetaBackend {
  /** names the backend in logs, e.g. "ZooKeeper 10.0.0.1:2181" */
  readonly description: string;
  /** The clients (filters and cursors) to start from; undefined when the backend holds none. */
  load(): Promise<ClientMeta[] | undefined>;
  /**
   * The snapshots in progress as the backend holds them (docs/snapshots.md), read by load(); undefined
   * when it holds none. Where the backend holds clients, this replaces meta.dat's.
   */
  loadedSnapshots?(): SnapshotRecord[] | undefined;
  /** Persists the content; a rejection fails the write (meta.dat is then not written either). */
  write(content: MetaContent): Promise<void>;
}
