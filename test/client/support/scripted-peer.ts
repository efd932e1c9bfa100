// A Canal server played by a script: it sends a fixed handshake, records every frame the client
// sends (bytes as on the wire), and answers each packet with what the test's handler returns.
// For pinning the client's bytes and its reply matching in cases a correct server never produces.
import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder } from '../../../src/protocol/frame.ts';
import { decodePacket, handshakePacket, successAckPacket, type DecodedPacket } from '../../../src/protocol/packets.ts';

export type Handler = (p: DecodedPacket, n: number) => Uint8Array[];

export const SEED = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

export class ScriptedPeer {
  /** every frame received, header included */
  readonly frames: Buffer[] = [];
  readonly packets: DecodedPacket[] = [];
  readonly sockets: Socket[] = [];
  port = 0;
  private readonly srv: Server;

  private constructor(handler: Handler) {
    this.srv = createServer((sock) => {
      this.sockets.push(sock);
      const dec = new FrameDecoder(1 << 20);
      sock.write(encodeFrame(handshakePacket(SEED)));
      sock.on('error', () => {});
      sock.on('data', (chunk) => {
        for (const body of dec.push(chunk)) {
          const head = Buffer.alloc(4);
          head.writeUInt32BE(body.length);
          this.frames.push(Buffer.concat([head, body]));
          const p = decodePacket(body);
          this.packets.push(p);
          for (const out of handler(p, this.packets.length - 1)) sock.write(encodeFrame(out));
        }
      });
    });
  }

  static async start(handler: Handler): Promise<ScriptedPeer> {
    const peer = new ScriptedPeer(handler);
    await new Promise<void>((r) => peer.srv.listen(0, '127.0.0.1', () => r()));
    const addr = peer.srv.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    peer.port = addr.port;
    return peer;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.srv.close(() => r()));
  }
}

/** Answers AUTH and SUB with success, nothing else: tests add the rest. */
export function basics(p: DecodedPacket): Uint8Array[] | undefined {
  if (p.type === 2 || p.type === 4 || p.type === 5) return [successAckPacket()];
  return undefined;
}
