// The optional TLS listener beside plain TCP, with a self-signed certificate made for the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import net from 'node:net';
import tls from 'node:tls';
import { encodeFrame } from '../../src/protocol/frame.ts';
import { clientAuthPacket } from '../../src/protocol/packets.ts';
import { waitFor } from '../support/sandbox.ts';
import { storedPasswordHash } from '../../src/protocol/auth.ts';
import { RawClient } from './support/raw-client.ts';
import { items, startFixture, summarize } from './support/fixture.ts';

const execFileP = promisify(execFile);

async function selfSigned(): Promise<{ dir: string; key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-tls-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  await execFileP('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyPath, '-out', certPath,
  ]);
  return { dir, key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
}

test('TLS listener: the same protocol over TLS, beside plain TCP; a plaintext client on the TLS port is closed', async () => {
  const pki = await selfSigned();
  const fx = await startFixture({ server: { user: 'canal', passwordHash: storedPasswordHash('canal'), tls: { port: 0, key: pki.key, cert: pki.cert } } });
  try {
    assert.ok(fx.tlsPort !== undefined && fx.tlsPort !== fx.port);
    fx.put(items(1, 1));
    const c = await RawClient.connect(fx.tlsPort, { tlsCa: pki.cert });
    assert.ok(c.socket instanceof tls.TLSSocket && c.socket.encrypted);
    assert.equal(c.seed.length, 8);
    assert.equal((await c.auth('canal', 'canal')).errorCode, 0);
    assert.equal((await c.subscribe('example')).errorCode, 0);
    const b = await c.get('example', 10);
    assert.deepEqual(summarize(b.entries), ['B', 'I:t:1', 'E']);
    c.close();

    // a client that does not trust the certificate cannot connect
    await assert.rejects(RawClient.connect(fx.tlsPort, { tlsCa: '' }), /certificate|self.signed|unable/i);

    // a plaintext Canal client on the TLS port: its bytes are not a TLS hello, so it is closed
    const plain = net.connect(fx.tlsPort, '127.0.0.1');
    plain.on('error', () => {});
    let got = 0;
    plain.on('data', (d: Buffer) => (got += d.length));
    plain.write(encodeFrame(clientAuthPacket({ username: 'canal', password: '' })));
    await new Promise((resolve) => plain.on('close', resolve));
    assert.ok(got < 64, 'no Canal handshake goes out in clear');
    await waitFor(() => fx.logs.some((l) => l.msg.includes('TLS handshake with a client failed')), 'the TLS failure log line');

    // plain TCP still serves next to it
    const p = await RawClient.connect(fx.port);
    assert.equal((await p.auth('canal', 'canal')).errorCode, 0);
    p.close();

    // a TCP connection to the TLS port that never starts its handshake does not hold up stop()
    const silent = net.connect(fx.tlsPort, '127.0.0.1');
    silent.on('error', () => {});
    await new Promise((resolve) => silent.once('connect', resolve));
    const closed = new Promise((resolve) => silent.once('close', resolve));
    silent.resume();
    await fx.server.stop();
    await closed;
  } finally {
    await fx.stop();
    await rm(pki.dir, { recursive: true, force: true });
  }
});
