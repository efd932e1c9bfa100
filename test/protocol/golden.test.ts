// Byte-exact frames for every packet type, as docs/protocol.md lists them (Wire).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame } from '../../src/protocol/frame.ts';
import {
  PacketType,
  handshakePacket,
  successAckPacket,
  errorAckPacket,
  emptyMessagesPacket,
  messagesPacket,
  rawMessagesFrame,
  clientAuthPacket,
  subPacket,
  unsubPacket,
  getPacket,
  clientAckPacket,
  clientRollbackPacket,
  rawPacket,
  decodePacket,
  decodeHandshake,
  decodeAck,
  decodeMessages,
  decodeClientAuth,
  decodeSub,
  decodeUnsub,
  decodeGet,
  decodeClientAck,
  decodeClientRollback,
  packetTypeName,
} from '../../src/protocol/packets.ts';
import { scramblePassword, storedPasswordHash, checkPassword } from '../../src/protocol/auth.ts';

/** Hex with spaces and quoted ASCII, as the reference writes it, to bytes. */
function hex(spec: string): Buffer {
  const parts: Buffer[] = [];
  const re = /"([^"]*)"|([0-9a-fA-F]+)/g;
  for (const m of spec.matchAll(re)) {
    if (m[1] !== undefined) parts.push(Buffer.from(m[1], 'utf8'));
    else if (m[2] !== undefined) parts.push(Buffer.from(m[2], 'hex'));
  }
  return Buffer.concat(parts);
}

const seed = Buffer.from('0102030405060708', 'hex');

test('golden §1: server handshake with seed 01..08', () => {
  assert.equal(encodeFrame(handshakePacket(seed)).toString('hex'), hex('00000010 1001 1801 2a0a 1208 0102030405060708').toString('hex'));
  const p = decodePacket(handshakePacket(seed));
  assert.equal(p.version, 1);
  assert.equal(p.type, PacketType.HANDSHAKE);
  assert.deepEqual(Buffer.from(decodeHandshake(p.body).seeds), seed);
});

test('golden §1: success ACK is exactly 00000004 10011803', () => {
  assert.equal(encodeFrame(successAckPacket()).toString('hex'), '0000000410011803');
  assert.deepEqual(decodeAck(decodePacket(successAckPacket()).body), { errorCode: 0, errorMessage: '' });
});

test('golden §1: error ACK 400 "auth failed for user:x"', () => {
  const text = 'auth failed for user:x';
  assert.equal(text.length, 22);
  const expected = Buffer.concat([hex('00000021 1001 1803 2a1b 089003 1216'), Buffer.from(text)]);
  assert.equal(encodeFrame(errorAckPacket(400, text)).toString('hex'), expected.toString('hex'));
  assert.deepEqual(decodeAck(decodePacket(errorAckPacket(400, text)).body), { errorCode: 400, errorMessage: text });
});

test('golden §1: empty GET result (batch -1) carries version 1', () => {
  assert.equal(encodeFrame(emptyMessagesPacket()).toString('hex'), hex('00000011 1001 1807 2a0b 08ffffffffffffffffff01').toString('hex'));
  const p = decodePacket(emptyMessagesPacket());
  assert.deepEqual(decodeMessages(p.body), { batchId: -1, entries: [] });
});

test('golden §1: client GET example/1001, fetch 100, timeout -1, unit 2', () => {
  const pkt = getPacket({ destination: 'example', clientId: '1001', fetchSize: 100, timeout: -1, unit: 2, autoAck: false });
  assert.equal(encodeFrame(pkt).toString('hex'), hex('00000024 1806 2a20 0a07"example" 1204"1001" 1864 20ffffffffffffffffff01 2802 3000').toString('hex'));
  const p = decodePacket(pkt);
  assert.equal(p.version, undefined);
  assert.deepEqual(decodeGet(p.body), { destination: 'example', clientId: '1001', fetchSize: 100, timeout: -1, unit: 2, autoAck: false });
});

test('golden §1: client ROLLBACK all omits batch_id 0', () => {
  const pkt = clientRollbackPacket({ destination: 'example', clientId: '1001', batchId: 0 });
  assert.equal(encodeFrame(pkt).toString('hex'), hex('00000013 180c 2a0f 0a07"example" 1204"1001"').toString('hex'));
  assert.deepEqual(decodeClientRollback(decodePacket(pkt).body), { destination: 'example', clientId: '1001', batchId: 0 });
});

test('golden §6.3: raw MESSAGES fast path, two tiny entries, no version', () => {
  const e1 = Buffer.from('e1e1', 'hex');
  const e2 = Buffer.from('e2e2', 'hex');
  const frame = rawMessagesFrame(1, [e1, e2]);
  assert.equal(frame.toString('hex'), hex('0000000e 1807 2a0a 0801 1202 e1e1 1202 e2e2').toString('hex'));
  const p = decodePacket(frame.subarray(4));
  assert.equal(p.version, undefined);
  assert.equal(p.type, PacketType.MESSAGES);
  const m = decodeMessages(p.body);
  assert.equal(m.batchId, 1);
  assert.deepEqual(m.entries.map((e) => Buffer.from(e).toString('hex')), ['e1e1', 'e2e2']);
});

test('raw MESSAGES decodes like the builder path for large ids and entries (multi-byte varints)', () => {
  const big = Buffer.alloc(300, 7);
  const entries = [big, Buffer.alloc(0), Buffer.from([1, 2, 3])];
  const raw = decodeMessages(decodePacket(rawMessagesFrame(987654321, entries).subarray(4)).body);
  const built = decodeMessages(decodePacket(messagesPacket(987654321, entries)).body);
  assert.deepEqual(raw, built);
  assert.equal(raw.entries.length, 3);
  assert.throws(() => rawMessagesFrame(0, entries), /batch id >= 1/);
});

test('builder MESSAGES with an id and no entries (a fully narrowed batch)', () => {
  assert.equal(encodeFrame(messagesPacket(5)).toString('hex'), '00000008 1001 1807 2a02 0805'.replace(/ /g, ''));
});

test('golden: client packets round-trip and match Java presence rules', () => {
  const auth = clientAuthPacket({ username: 'canal', password: '7de44690d8e53782cb61804a2455c284a3bbfb06', netReadTimeoutMs: 0, netWriteTimeoutMs: 3600000 });
  // username(1), password(2) as 40 ASCII bytes, read timeout written even as 0 (oneof), write timeout
  const body = Buffer.concat([hex('0a05"canal" 1228"7de44690d8e53782cb61804a2455c284a3bbfb06" 1800 20 80dddb01')]);
  assert.equal(Buffer.from(auth).toString('hex'), Buffer.concat([hex('1802 2a'), Buffer.from([body.length]), body]).toString('hex'));
  assert.deepEqual(decodeClientAuth(decodePacket(auth).body), {
    username: 'canal',
    password: '7de44690d8e53782cb61804a2455c284a3bbfb06',
    netReadTimeout: 0,
    netWriteTimeout: 3600000,
    destination: '',
    clientId: '',
    filter: '',
  });

  const sub = subPacket({ destination: 'example', clientId: '1001', filter: 'db\\..*' });
  assert.equal(Buffer.from(sub).toString('hex'), hex('1804 2a17 0a07"example" 1204"1001" 3a06"db\\..*"').toString('hex'));
  assert.deepEqual(decodeSub(decodePacket(sub).body), { destination: 'example', clientId: '1001', filter: 'db\\..*' });

  const unsub = unsubPacket({ destination: 'example', clientId: '1001' });
  assert.equal(Buffer.from(unsub).toString('hex'), hex('1805 2a0f 0a07"example" 1204"1001"').toString('hex'));
  assert.deepEqual(decodeUnsub(decodePacket(unsub).body), { destination: 'example', clientId: '1001', filter: '' });

  const ack = clientAckPacket({ destination: 'example', clientId: '1001', batchId: 3 });
  assert.equal(Buffer.from(ack).toString('hex'), hex('1808 2a11 0a07"example" 1204"1001" 1803').toString('hex'));
  assert.deepEqual(decodeClientAck(decodePacket(ack).body), { destination: 'example', clientId: '1001', batchId: 3 });

  const ackNone = clientAckPacket({ destination: 'example', clientId: '1001', batchId: -1 });
  assert.equal(decodeClientAck(decodePacket(ackNone).body).batchId, -1);

  const rb = clientRollbackPacket({ destination: 'example', clientId: '1001', batchId: 2 });
  assert.equal(Buffer.from(rb).toString('hex'), hex('180c 2a11 0a07"example" 1204"1001" 1802').toString('hex'));

  // The never-used types still encode as a bare type tag.
  assert.equal(Buffer.from(rawPacket(PacketType.HEARTBEAT)).toString('hex'), '180b');
  assert.equal(packetTypeName(PacketType.HEARTBEAT), 'HEARTBEAT');
  assert.equal(packetTypeName(0), 'PACKAGETYPECOMPATIBLEPROTO2');
  assert.equal(packetTypeName(99), 'UNRECOGNIZED(99)');
});

test('golden §4.1: auth test vector (canal, seed 01..08)', () => {
  assert.equal(scramblePassword('canal', seed), '7de44690d8e53782cb61804a2455c284a3bbfb06');
  assert.equal(storedPasswordHash('canal'), 'E3619321C1A937C46A0D8BD1DAC39F93B27D4458');
  const stored = 'E3619321C1A937C46A0D8BD1DAC39F93B27D4458';
  assert.deepEqual(checkPassword('canal', stored, 'canal', '7de44690d8e53782cb61804a2455c284a3bbfb06', seed), { ok: true });
  // hex case does not matter, on either side
  assert.deepEqual(checkPassword('canal', stored.toLowerCase(), 'canal', '7DE44690D8E53782CB61804A2455C284A3BBFB06', seed), { ok: true });
  assert.deepEqual(checkPassword('canal', stored, 'canal', scramblePassword('wrong', seed), seed), { ok: false, reason: 'mismatch' });
  assert.deepEqual(checkPassword('canal', stored, 'other', '7de44690d8e53782cb61804a2455c284a3bbfb06', seed), { ok: false, reason: 'user' });
  assert.deepEqual(checkPassword('canal', stored, 'canal', '', seed), { ok: false, reason: 'empty-password' });
  assert.deepEqual(checkPassword('canal', stored, 'canal', 'canal', seed), { ok: false, reason: 'malformed' });
  assert.deepEqual(checkPassword('canal', stored, 'canal', 'abcd', seed), { ok: false, reason: 'malformed' });
  // auth off: anything passes, plaintext included (canal-python)
  assert.deepEqual(checkPassword('', '', 'anyone', 'plain', seed), { ok: true });
});
