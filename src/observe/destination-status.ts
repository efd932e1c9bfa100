// A destination's state as the admin endpoint, the metrics and the server report it. It lives here, with
// observability, so that observe/ depends on nothing else of sluice (docs/architecture.md, import rule).

/** `degraded`: a group destination with a source down (docs/sink-and-store.md). `standby`: another server of a high-availability cluster runs it (docs/high-availability.md). */
export type DestinationStateName = 'starting' | 'running' | 'degraded' | 'retrying' | 'failed' | 'stopped' | 'standby';

/** A destination's place in a high-availability cluster. */
export interface HaStatus {
  role: 'active' | 'standby';
  /** the address this server registers */
  server: string;
  /** the server holding `running` now, if any */
  activeServer: string | null;
  /** this server's ZooKeeper session: connected, disconnected (session may live), lease-lapsed, expired (a new one is being opened) */
  zookeeper: 'connecting' | 'connected' | 'disconnected' | 'lease-lapsed' | 'expired';
}

export interface DestinationStatus {
  state: DestinationStateName;
  /** the last error, for failed/retrying */
  error?: string;
  /** present only when the server runs in a ZooKeeper cluster */
  ha?: HaStatus;
}
