// The packet codecs (message-codec.ts, used by the server and the client through packets.ts)
// against protobufjs's reflection, the reference: on arbitrary values of every field of every
// packet message, the codec writes the bytes protobufjs writes for the same fields under proto3
// presence (defaults of plain fields left out, oneof fields kept), both read those bytes to the
// same object, and on arbitrary bytes the codec reads what protobufjs reads or refuses the body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { codecs } from '../../src/protocol/packets.ts';
import type { MessageCodec } from '../../src/protocol/message-codec.ts';
import { pb, toObjectOptions } from '../../src/protocol/proto.ts';

const str = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 45 }),
  fc.string({ unit: 'binary', maxLength: 45 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '\u{1f600}', '\ud800', '\udc00', '中'), minLength: 35, maxLength: 300 }),
);
const bytes = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 120, maxLength: 400 }));
const int32 = fc.oneof(fc.constant(0), fc.integer({ min: -5, max: 300 }), fc.integer({ min: -2147483648, max: 2147483647 }));
const int64 = fc.oneof(fc.constant(0), fc.integer({ min: -5, max: 300 }), fc.maxSafeInteger(), fc.constantFrom(-1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53) + 1, 1_700_000_000_123));

function valueOf(f: protobuf.Field): fc.Arbitrary<unknown> {
  if (f.repeated) return fc.array(bytes, { maxLength: 4 });
  if (f.resolvedType instanceof protobuf.Enum) return int32;
  switch (f.type) {
    case 'string':
      return str;
    case 'bytes':
      return bytes;
    case 'int32':
      return int32;
    case 'int64':
      return int64;
    case 'bool':
      return fc.boolean();
    default:
      throw new Error(`no arbitrary for ${f.type}`);
  }
}

/** Any subset of the message's fields, each with any value of its type. */
function message(type: protobuf.Type): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of type.fieldsArray) model[f.name] = valueOf(f);
  return fc.record(model, { requiredKeys: [] });
}

function isDefault(v: unknown): boolean {
  return v === '' || v === 0 || v === false || ((v instanceof Uint8Array || Array.isArray(v)) && v.length === 0);
}

/** What proto3 (and Canal's Java builders) put on the wire for these fields. */
function present(type: protobuf.Type, msg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg)) {
    const f = type.fields[k]!;
    if (f.partOf == null && isDefault(v)) continue;
    out[k] = v;
  }
  return out;
}

function referenceDecode(type: protobuf.Type, b: Uint8Array): Record<string, unknown> {
  return type.toObject(type.decode(b), toObjectOptions) as Record<string, unknown>;
}

/** Values compared as plain data: bytes as Buffers, whatever view they come in. */
function plain(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = v instanceof Uint8Array ? Buffer.from(v) : Array.isArray(v) ? v.map((x) => Buffer.from(x as Uint8Array)) : v;
  return out;
}

const cases: [string, protobuf.Type, MessageCodec<object>][] = Object.entries(codecs).map(([name, codec]) => [name, pb[name as keyof typeof codecs], codec as MessageCodec<object>]);

test('every packet message has a codec', () => {
  assert.deepEqual(
    cases.map(([n]) => n),
    ['Packet', 'Handshake', 'ClientAuth', 'Ack', 'Sub', 'Unsub', 'Get', 'Messages', 'ClientAck', 'ClientRollback'],
  );
});

for (const [name, type, codec] of cases) {
  test(`${name}: the codec writes protobufjs's bytes and both read them back alike`, () => {
    fc.assert(
      fc.property(message(type), (msg) => {
        const mine = Buffer.from(codec.encode(msg));
        const reference = Buffer.from(type.encode(present(type, msg)).finish());
        assert.equal(mine.toString('hex'), reference.toString('hex'));
        assert.deepEqual(plain(codec.decode(mine) as Record<string, unknown>), plain(referenceDecode(type, mine)));
      }),
      { numRuns: 400 },
    );
  });

  test(`${name}: on arbitrary bytes the codec reads what protobufjs reads, or refuses`, () => {
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 60 }),
      // valid messages with fields the message does not have (skipped by both) in between
      fc.tuple(message(type), message(type), fc.nat(0xffff), fc.uint8Array({ maxLength: 6 })).map(([a, b, n, extra]) =>
        Buffer.concat([type.encode(present(type, a)).finish(), Buffer.from([15 << 3, n & 0x7f, (15 << 3) | 2, extra.length]), extra, type.encode(present(type, b)).finish()]),
      ),
      // valid messages with bytes appended, cut short, or flipped
      fc.tuple(message(type), fc.uint8Array({ maxLength: 8 }), fc.nat(), fc.nat(255)).map(([m, tail, cut, flip]) => {
        const b = Buffer.concat([type.encode(present(type, m)).finish(), tail]);
        if (b.length === 0) return b;
        const out = Buffer.from(b.subarray(0, b.length - (cut % Math.min(3, b.length))));
        if (out.length > 0) out.writeUInt8((out.readUInt8(flip % out.length) ^ (1 << (flip % 8))) & 0xff, flip % out.length);
        return out;
      }),
    );
    let compared = 0;
    fc.assert(
      fc.property(bodies, (body) => {
        // as frames arrive: protobufjs reads a Buffer with its Buffer reader (Node's UTF-8 decoder)
        const b = Buffer.from(body);
        const hex = b.toString('hex');
        let expected: Record<string, unknown> | Error;
        let actual: Record<string, unknown> | Error;
        try {
          expected = plain(referenceDecode(type, b));
        } catch (err) {
          expected = err as Error;
        }
        try {
          actual = plain(codec.decode(b) as Record<string, unknown>);
        } catch (err) {
          actual = err as Error;
        }
        if (!(expected instanceof Error) && !(actual instanceof Error)) {
          compared++;
          assert.deepEqual(actual, expected, `bytes ${hex}`);
        } else if (actual instanceof Error && !(expected instanceof Error)) {
          // The codec checks every length and varint against the message's end; protobufjs
          // reads some malformed bodies anyway (a string whose length runs past the end cut
          // short, a 64-bit varint cut at the end taken as it is). Refusing those is the
          // codec's choice, and the session answers them as malformed.
          assert.match(actual.message, /runs past the end|truncated|invalid (varint|wire type)/, `bytes ${hex}`);
        } else if (expected instanceof Error && !(actual instanceof Error)) {
          assert.fail(`bytes ${hex}: protobufjs refused (${expected.message}), the codec read ${JSON.stringify(actual)}`);
        }
      }),
      { numRuns: 1500 },
    );
    assert.ok(compared > 300, `only ${compared} of 1500 bodies read by both`);
  });
}
