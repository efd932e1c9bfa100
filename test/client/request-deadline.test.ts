// Request deadlines on one connection: many prompt replies never trip them, the oldest waiting
// request times out once the peer goes silent, and a short deadline after a long one is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanalConnection } from '../../src/client/connection.ts';
import { CanalTimeoutError } from '../../src/client/errors.ts';
import { rawPacket, successAckPacket, PacketType } from '../../src/protocol/packets.ts';
import { ScriptedPeer } from './support/scripted-peer.ts';

const GET = rawPacket(PacketType.GET);

async function open(port: number, requestTimeoutMs: number): Promise<CanalConnection> {
  // A long connect timeout: the handshake's own deadline must not be what ends a later request.
  const { conn } = await CanalConnection.open({ host: '127.0.0.1', port, connectTimeoutMs: 600_000, requestTimeoutMs, maxFrameBytes: 1 << 20 });
  return conn;
}

/**
 * 'timed out' when `request` fails with the timeout error matching `message`; 'still waiting'
 * if it is pending after 30 s, far beyond the deadlines used here even on a loaded machine and
 * far below the connect timeout and the long GET's wait.
 */
async function outcome(request: Promise<unknown>, message: RegExp): Promise<string> {
  let guard: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      request.then(
        () => 'answered',
        (e: unknown) => (e instanceof CanalTimeoutError && message.test(e.message) ? 'timed out' : `failed: ${String(e)}`),
      ),
      new Promise<string>((r) => (guard = setTimeout(() => r('still waiting'), 30_000))),
    ]);
  } finally {
    clearTimeout(guard);
  }
}

test('prompt replies never time out; the first unanswered request does, by name', async () => {
  const answered = 200;
  const peer = await ScriptedPeer.start((_p, n) => (n < answered ? [successAckPacket()] : []));
  try {
    const conn = await open(peer.port, 400);
    for (let i = 0; i < answered; i++) {
      const r = await conn.request(GET, `GET #${i}`);
      assert.equal(r.packet.type, PacketType.ACK);
    }
    assert.equal(await outcome(conn.request(GET, `GET #${answered}`), new RegExp(`to GET #${answered} within 400 ms`)), 'timed out');
    assert.equal(conn.closed, true);
  } finally {
    // Ends any connection still open (after a failed assertion) along with the peer.
    await peer.close();
  }
});

test('a short deadline that follows a long one is not held to the long one', async () => {
  const peer = await ScriptedPeer.start((_p, n) => (n === 0 ? [successAckPacket()] : []));
  try {
    const conn = await open(peer.port, 200);
    // The first request may wait 10 minutes and is answered at once; the second may wait 200 ms.
    await conn.request(GET, 'the long GET', 600_000);
    assert.equal(await outcome(conn.request(GET, 'the short GET'), /to the short GET within 200 ms/), 'timed out');
  } finally {
    // Ends any connection still open (after a failed assertion) along with the peer.
    await peer.close();
  }
});
