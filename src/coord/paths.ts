// Canal's ZooKeeper layout, shared by the server (membership, election, cursors) and the client
// (finding the active server, client standby). Everything lives under /otter/canal so that
// Canal's own servers and cluster clients read the same nodes; docs/high-availability.md lists
// each node, who writes it and what it holds.

export const CANAL_ROOT = '/otter/canal';
export const SERVER_CLUSTER_ROOT = `${CANAL_ROOT}/cluster`;
export const DESTINATIONS_ROOT = `${CANAL_ROOT}/destinations`;

/** A server address as registered: "ip:port". */
export type ServerAddress = string;

const NAME = /^[^/\s]+$/;

function segment(kind: string, value: string): string {
  if (value === '' || !NAME.test(value) || value === '.' || value === '..') {
    throw new Error(`${kind} ${JSON.stringify(value)} cannot be a ZooKeeper path segment: use a non-empty name without '/' or spaces`);
  }
  return value;
}

/** Checks "host:port" with a port in 1..65535; returns it unchanged. */
export function checkServerAddress(address: string): ServerAddress {
  const m = /^(.+):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535 || m[1]!.includes('/') || /\s/.test(address)) {
    throw new Error(`server address ${JSON.stringify(address)} is not host:port (e.g. 10.0.0.5:11111)`);
  }
  return address;
}

/** /otter/canal/cluster/{ip:port}: one ephemeral node per live server. */
export function serverNodePath(address: ServerAddress): string {
  return `${SERVER_CLUSTER_ROOT}/${checkServerAddress(address)}`;
}

/** /otter/canal/destinations/{d} */
export function destinationPath(destination: string): string {
  return `${DESTINATIONS_ROOT}/${segment('destination', destination)}`;
}

/** /otter/canal/destinations/{d}/cluster: the servers able to run d, running it or not. */
export function destinationClusterPath(destination: string): string {
  return `${destinationPath(destination)}/cluster`;
}

/** /otter/canal/destinations/{d}/cluster/{ip:port} (ephemeral). */
export function destinationMemberPath(destination: string, address: ServerAddress): string {
  return `${destinationClusterPath(destination)}/${checkServerAddress(address)}`;
}

/** /otter/canal/destinations/{d}/running (ephemeral): the server running d now. */
export function serverRunningPath(destination: string): string {
  return `${destinationPath(destination)}/running`;
}

/** /otter/canal/destinations/{d}/{clientId} */
export function clientPath(destination: string, clientId: string): string {
  return `${destinationPath(destination)}/${segment('clientId', clientId)}`;
}

/** /otter/canal/destinations/{d}/{clientId}/running (ephemeral): the client process consuming d now. */
export function clientRunningPath(destination: string, clientId: string): string {
  return `${clientPath(destination, clientId)}/running`;
}

/** /otter/canal/destinations/{d}/{clientId}/cursor (persistent): the acknowledged position. */
export function clientCursorPath(destination: string, clientId: string): string {
  return `${clientPath(destination, clientId)}/cursor`;
}

/** /otter/canal/destinations/{d}/{clientId}/filter (persistent): the subscribe filter text. */
export function clientFilterPath(destination: string, clientId: string): string {
  return `${clientPath(destination, clientId)}/filter`;
}

/**
 * /otter/canal/destinations/{d}/sluice-snapshots (persistent): sluice's snapshots in progress with
 * their acknowledged progress, JSON as meta.dat's `sluiceSnapshots`. Not a client id, so Canal's
 * servers and clients (which look for numeric children) pass it by.
 */
export function snapshotsPath(destination: string): string {
  return `${destinationPath(destination)}/sluice-snapshots`;
}

/** The children of /otter/canal/destinations/{d} that are not client ids. */
export const NON_CLIENT_CHILDREN: ReadonlySet<string> = new Set(['cluster', 'running', 'parse', 'sluice-snapshots']);

/** Whether a child of a destination's node names a client (Canal's client ids are Java shorts). */
export function isClientIdChild(name: string): boolean {
  return !NON_CLIENT_CHILDREN.has(name) && /^-?\d{1,5}$/.test(name);
}
