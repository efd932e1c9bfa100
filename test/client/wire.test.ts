// The client's bytes on the wire (docs/protocol.md, Wire) and its matching of replies to
// pipelined requests, against a scripted peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanalClient } from '../../src/client/canal-client.ts';
import { CanalServerError } from '../../src/client/errors.ts';
import { encodeEntry } from '../../src/protocol/entry-codec.ts';
import { decodeClientRollback, errorAckPacket, messagesPacket, PacketType, type DecodedPacket } from '../../src/protocol/packets.ts';
import { waitFor } from '../support/sandbox.ts';
import { transaction } from './support/serve.ts';
import { basics, ScriptedPeer } from './support/scripted-peer.ts';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');

test('the client sends the documented bytes: auth scramble, rollback on connect, GET', async () => {
  const peer = await ScriptedPeer.start((p) => basics(p) ?? (p.type === PacketType.GET ? [messagesPacket(-1)] : []));
  try {
    const c = new CanalClient({ host: '127.0.0.1', port: peer.port, destination: 'example', user: 'canal', password: 'canal', idleTimeoutMs: 60_000, reconnect: false });
    await c.connect();
    await c.getWithoutAck(100, -1);
    await c.disconnect();
    const [auth, rollback, get] = peer.frames;
    // §4.1 test vector: password "canal" with seed 01..08.
    const expectedAuthBody = `0a05${ascii('canal')}1228${ascii('7de44690d8e53782cb61804a2455c284a3bbfb06')}18e0d40320e0d403`;
    // ClientAuth: username, password (40 hex chars), net read and write timeouts 60000 ms.
    assert.equal(auth!.toString('hex'), hex(`0000003d 1802 2a39 ${expectedAuthBody}`).toString('hex'));
    // §1: ROLLBACK all, and GET example/1001 fetch 100 timeout -1 unit 2 (ms) auto_ack false.
    assert.equal(rollback!.toString('hex'), hex(`00000013 180c 2a0f 0a07${ascii('example')} 1204${ascii('1001')}`).toString('hex'));
    assert.equal(get!.toString('hex'), hex(`00000024 1806 2a20 0a07${ascii('example')} 1204${ascii('1001')} 1864 20ffffffffffffffffff01 2802 3000`).toString('hex'));
  } finally {
    await peer.close();
  }
});

test('an error ACK that belongs to the GET after a successful ack fails that GET and nothing hangs', async () => {
  // The ack succeeds silently; the GET is refused with a message that is not about batches.
  const peer = await ScriptedPeer.start((p) => basics(p) ?? (p.type === PacketType.GET ? [errorAckPacket(400, 'destination:example is failed: binlog purged')] : []));
  try {
    const c = new CanalClient({ host: '127.0.0.1', port: peer.port, destination: 'example', reconnect: false });
    await c.connect();
    const acked = c.ack(5);
    const got = c.getWithoutAck(10, -1);
    await acked;
    await assert.rejects(got, (e: unknown) => e instanceof CanalServerError && e.request === 'GET of example/1001' && /binlog purged/.test(e.message));
    assert.equal(c.pendingFailure, undefined, 'the refusal was not also taken for the ack');
    await c.disconnect();
  } finally {
    await peer.close();
  }
});

test('a refused rollback and a refused GET are both reported, each once, in order', async () => {
  const entries = transaction(1).map(encodeEntry);
  let gets = 0;
  const peer = await ScriptedPeer.start((p) => {
    const b = basics(p);
    if (b) return b;
    if (p.type === PacketType.CLIENTROLLBACK && decodeClientRollback(p.body).batchId === 9) return [errorAckPacket(400, 'rollback error, clientId:1001 batchId:9 is not exist , please check')];
    if (p.type === PacketType.GET) return ++gets === 1 ? [errorAckPacket(400, 'clientId:1001 should subscribe to destination:example first')] : [messagesPacket(3, entries)];
    return [];
  });
  try {
    const c = new CanalClient({ host: '127.0.0.1', port: peer.port, destination: 'example', reconnect: false });
    await c.connect();
    void c.rollback(9);
    const g1 = c.getWithoutAck(10, -1);
    // The rollback's refusal arrives first and is carried to the GET waiting behind it…
    await assert.rejects(g1, (e: unknown) => e instanceof CanalServerError && e.request === 'rollback of batch 9 on example/1001');
    // …and the GET's own refusal is not lost: the next call reports it.
    await waitFor(() => c.pendingFailure !== undefined, 'the GET refusal to be kept');
    await assert.rejects(c.getWithoutAck(10, -1), (e: unknown) => e instanceof CanalServerError && /should subscribe/.test(e.serverMessage));
    const b = await c.getWithoutAck(10, -1);
    assert.equal(b.id, 3);
    assert.equal(b.size, 3);
    await c.disconnect();
  } finally {
    await peer.close();
  }
});

test('a reply nobody asked for closes the connection with a protocol error', async () => {
  const peer = await ScriptedPeer.start((p: DecodedPacket) => basics(p) ?? (p.type === PacketType.CLIENTACK ? [messagesPacket(1, [])] : []));
  try {
    const c = new CanalClient({ host: '127.0.0.1', port: peer.port, destination: 'example', reconnect: false });
    const lost: Error[] = [];
    c.on('disconnected', (e) => lost.push(e));
    await c.connect();
    await c.ack(1);
    await waitFor(() => lost.length === 1, 'the client to drop the connection');
    assert.match(lost[0]!.message, /unexpected MESSAGES packet while no request was waiting/);
  } finally {
    await peer.close();
  }
});
