import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

async function configDir(files: Record<string, string | object>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-config-'));
  for (const [name, content] of Object.entries(files)) {
    const p = join(dir, name);
    await mkdir(join(p, '..'), { recursive: true });
    await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

const SOURCE = { host: 'db1', port: 3306, user: 'repl', password: { env: 'SHOP_DB_PASSWORD' }, slaveId: 1234 };
const ENV = { SHOP_DB_PASSWORD: 'pw-from-env' };

async function loadError(files: Record<string, string | object>, env: Record<string, string> = ENV): Promise<ConfigError> {
  const dir = await configDir(files);
  try {
    await loadConfig(dir, { env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.fail('loadConfig accepted an invalid configuration');
}

test('a minimal JSON directory loads with documented defaults and env secrets resolved', async () => {
  const dir = await configDir({
    'sluice.json': { _comment: 'comments are keys starting with _', listen: { port: 11111 } },
    'instances/shop.json': { source: SOURCE, filter: { include: 'shop\\..*' } },
  });
  try {
    const cfg = await loadConfig(dir, { env: ENV });
    assert.equal(cfg.format, 'sluice-json');
    assert.equal(cfg.server.listen.host, '127.0.0.1');
    assert.equal(cfg.server.lagIntervalMs, 10_000);
    assert.equal(cfg.server.admin.port, 11112);
    assert.equal(cfg.server.dataDir, join(dir, 'data'));
    assert.equal(cfg.server.auth, undefined);
    assert.equal(cfg.instances.length, 1);
    const shop = cfg.instances[0]!;
    assert.equal(shop.destination, 'shop');
    assert.equal(shop.source.password, 'pw-from-env');
    assert.deepEqual(shop.start, { kind: 'end' });
    assert.equal(shop.filter.include, 'shop\\..*');
    assert.equal(shop.store.batchMode, 'MEMSIZE');
    assert.equal(shop.store.maxEntries, 16_384);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing required key names the file and the key path', async () => {
  const err = await loadError({ 'instances/shop.json': { source: { ...SOURCE, host: undefined } } });
  assert.match(err.message, /instances\/shop\.json: source\.host: required key is missing; expected string/);
});

test('a wrong type names the file, key, value and the type expected', async () => {
  const err = await loadError({ 'sluice.json': { listen: { port: 'eleven' } }, 'instances/shop.json': { source: SOURCE } });
  assert.match(err.message, /sluice\.json: listen\.port: expected number, got string \(got "eleven"\)/);
});

test('an out-of-range value and an invalid enum say what is allowed', async () => {
  const err = await loadError({
    'sluice.json': { listen: { port: 70000 } },
    'instances/shop.json': { source: SOURCE, store: { batchMode: 'BYTES' } },
  });
  assert.match(err.message, /sluice\.json: listen\.port: must be at most 65535 \(got 70000\)/);
  assert.match(err.message, /instances\/shop\.json: store\.batchMode: must be one of "MEMSIZE", "ITEMSIZE" \(got "BYTES"\)/);
  assert.equal(err.issues.length, 2, 'every problem is reported at once');
});

test('a misspelt key is an error listing the allowed keys', async () => {
  const err = await loadError({ 'instances/shop.json': { source: SOURCE, filtre: {} } });
  assert.match(err.message, /instances\/shop\.json: filtre: unknown key; allowed here: source, start, timezone, filter/);
});

test('a filter regex that does not compile names its key and the piece', async () => {
  const err = await loadError({ 'instances/shop.json': { source: SOURCE, filter: { include: 'shop\\..*,(broken' } } });
  assert.match(err.message, /instances\/shop\.json: filter\.include: the filter piece "\(broken" is not a valid regex/);
});

test('a bad column filter rule names its key', async () => {
  const err = await loadError({ 'instances/shop.json': { source: SOURCE, filter: { includeFields: 'shop.orders' } } });
  assert.match(err.message, /instances\/shop\.json: filter\.includeFields: the column rule "shop\.orders" is not schema\.table:col1\/col2/);
});

test('a missing environment secret names the variable and the key, never a value', async () => {
  const err = await loadError({ 'instances/shop.json': { source: { ...SOURCE, password: '${NOT_SET_ANYWHERE}' } } }, {});
  assert.match(err.message, /instances\/shop\.json: source\.password: environment variable NOT_SET_ANYWHERE is not set/);
});

test('a password of the wrong type is reported without echoing it', async () => {
  const err = await loadError({ 'instances/shop.json': { source: { ...SOURCE, password: 12345678 } } });
  assert.match(err.message, /source\.password: expected string, got number \(got "<redacted>"\)/);
  assert.doesNotMatch(err.message, /12345678/);
});

test('start positions: file and position go together', async () => {
  const err = await loadError({ 'instances/shop.json': { source: SOURCE, start: { file: 'binlog.000001' } } });
  assert.match(err.message, /instances\/shop\.json: start: file and position go together/);
});

test('user without passwordHash, and a plaintext passwordHash, are rejected', async () => {
  const err = await loadError({ 'sluice.json': { user: 'canal', passwordHash: 'canal' }, 'instances/shop.json': { source: SOURCE } });
  assert.match(err.message, /sluice\.json: passwordHash: must be 40 hex digits/);
  const err2 = await loadError({ 'sluice.json': { user: 'canal' }, 'instances/shop.json': { source: SOURCE } });
  assert.match(err2.message, /sluice\.json: passwordHash: user and passwordHash go together/);
});

test('two instances using one server id on the same source are rejected', async () => {
  const err = await loadError({ 'instances/a.json': { source: SOURCE }, 'instances/b.json': { source: SOURCE } });
  assert.match(err.message, /instances\/b\.json: source\.slaveId: a \(instances\/a\.json\) already uses server id 1234/);
});

test('a directory with no config in it, and a missing one, are explained', async () => {
  const empty = await configDir({});
  try {
    await assert.rejects(loadConfig(empty), /holds neither sluice\.json with instances\/ nor canal\.properties/);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
  await assert.rejects(loadConfig(join(tmpdir(), 'sluice-no-such-dir-xyz')), /config directory cannot be used \(ENOENT\)/);
});

test('invalid JSON names the file', async () => {
  const err = await loadError({ 'instances/shop.json': '{ "source": ' });
  assert.match(err.message, /instances\/shop\.json: is not valid JSON/);
  const place = await loadError({ 'instances/shop.json': '{\n  "source": {\n    "host": "db",,\n  }\n}' });
  assert.match(place.message, /instances\/shop\.json: is not valid JSON: .* \(at line 3, column 18\)/);
});

test('TLS files that cannot be read are named at load time', async () => {
  const err = await loadError({ 'sluice.json': { tls: { certFile: 'no-cert.pem', keyFile: 'no-key.pem' } }, 'instances/shop.json': { source: SOURCE } });
  assert.match(err.message, /sluice\.json: tls\.certFile: cannot be read \(ENOENT\) \(got ".*no-cert\.pem"\)/);
  assert.match(err.message, /sluice\.json: tls\.keyFile: cannot be read \(ENOENT\)/);
});

test('an unset {"env": NAME} secret is reported once, as unset', async () => {
  const err = await loadError({ 'instances/shop.json': { source: { ...SOURCE, password: { env: 'ALSO_NOT_SET_42' } } } }, {});
  assert.equal(err.issues.length, 1, err.message);
  assert.match(err.message, /instances\/shop\.json: source\.password: environment variable ALSO_NOT_SET_42 is not set \(referenced as \{"env": "ALSO_NOT_SET_42"\}\)/);
});

test('zookeeper: defaults, a bad connect string, and a wildcard listen host without registerAddress', async () => {
  const dir = await configDir({ 'sluice.json': { zookeeper: { connect: 'zk1:2181,zk2:2181/sluice' } }, 'instances/shop.json': { source: SOURCE } });
  try {
    const cfg = await loadConfig(dir, { env: ENV });
    assert.deepEqual(cfg.server.zookeeper, { connect: 'zk1:2181,zk2:2181/sluice', sessionTimeoutMs: 5_000, takeoverDelayMs: 2_000, cid: 1, connectTimeoutMs: 10_000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const bad = await loadError({ 'sluice.json': { zookeeper: { connect: 'zk1' } }, 'instances/shop.json': { source: SOURCE } });
  assert.match(bad.message, /zookeeper\.connect.*host:port/);
  const wildcard = await loadError({ 'sluice.json': { listen: { host: '0.0.0.0' }, zookeeper: { connect: 'zk1:2181' } }, 'instances/shop.json': { source: SOURCE } });
  assert.match(wildcard.message, /zookeeper\.registerAddress.*canal\.register\.ip/);
});
