// A Canal-style consumer that knows only the ZooKeeper address: it reads the destination's
// `running` node, connects to the server named there, and on any failure (connection lost, a
// standby's refusal) reads `running` again and reconnects, as Canal's cluster connector does.
// Every batch is handed to `apply` before it is acknowledged.
import { CanalClient } from '../../../src/client/canal-client.ts';
import type { CanalBatch } from '../../../src/client/entry.ts';
import { serverRunningPath } from '../../../src/coord/paths.ts';
import { parseServerRunning } from '../../../src/coord/running-data.ts';
import { ZkSession } from '../../../src/coord/zk-session.ts';

export interface Switch {
  at: number;
  server: string;
}

export class ZkFollowingConsumer {
  /** every server this consumer got a first batch from, in order, with the time of that batch */
  readonly switches: Switch[] = [];
  /** errors that made it look up `running` again */
  readonly errors: string[] = [];
  private zk: ZkSession | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private current: CanalClient | undefined;
  /** ack nothing while true (the test freezes the cursor) */
  paused = false;

  constructor(
    private readonly zkConnect: string,
    private readonly destination: string,
    private readonly apply: (b: CanalBatch, server: string) => void,
    /** called when it connects to a server (the stream may start over from that server's cursor) */
    private readonly onConnect: (server: string) => void = () => undefined,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.disconnect().catch(() => undefined);
    await this.loop;
    await this.zk?.close();
  }

  private async lookup(): Promise<string | undefined> {
    if (this.zk === undefined || this.zk.expired) this.zk = await ZkSession.open({ connectString: this.zkConnect, sessionTimeoutMs: 10_000, connectTimeoutMs: 5_000 });
    const node = await this.zk.get(serverRunningPath(this.destination));
    return node === undefined ? undefined : parseServerRunning(node.data).address;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let address: string | undefined;
      try {
        address = await this.lookup();
      } catch (err) {
        this.errors.push(`lookup: ${(err as Error).message}`);
      }
      if (address === undefined) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
      const c = new CanalClient({ host, port, destination: this.destination, clientId: '1001', reconnect: false, requestTimeoutMs: 5_000, connectTimeoutMs: 2_000 });
      this.current = c;
      let first = true;
      try {
        await c.connect();
        await c.subscribe();
        this.onConnect(address);
        while (!this.stopped) {
          if (this.paused) {
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          const b = await c.getWithoutAck(50, 200);
          if (b.id === -1) continue;
          if (first) {
            this.switches.push({ at: Date.now(), server: address });
            first = false;
          }
          this.apply(b, address);
          await c.ack(b.id);
        }
      } catch (err) {
        if (!this.stopped) this.errors.push(`${address}: ${(err as Error).message}`);
      } finally {
        await c.disconnect().catch(() => undefined);
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 50));
    }
  }
}
