import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { parseProperties } from '../../src/config/properties.ts';

async function canalDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-canal-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

const CANAL_PROPERTIES = `
# a trimmed-down stock canal.properties
canal.ip =
canal.port = 11111
canal.metrics.pull.port = 11112
canal.user = canal
canal.passwd = E3619321C1A937C46A0D8BD1DAC39F93B27D4458
canal.zkServers =
canal.serverMode = tcp
canal.file.data.dir = \${canal.conf.dir}/data
canal.file.flush.period = 500
canal.instance.memory.buffer.size = 1024
canal.instance.memory.buffer.memunit = 2048
canal.instance.memory.batch.mode = ITEMSIZE
canal.instance.tsdb.enable = false
canal.instance.get.ddl.isolation = true
canal.instance.filter.query.ddl = true
canal.instance.global.spring.xml = classpath:spring/file-instance.xml
canal.destinations = example
canal.auto.scan = true
`;

const INSTANCE_PROPERTIES = `
canal.instance.mysql.slaveId=1234
canal.instance.gtidon=false
canal.instance.master.address=127.0.0.1:3307
canal.instance.master.journal.name=mysql-bin.000003
canal.instance.master.position=13788906
canal.instance.master.timestamp=
canal.instance.master.gtid=
canal.instance.dbUsername=canal
canal.instance.dbPassword=\${CANAL_DB_PASSWORD}
canal.instance.connectionCharset = UTF-8
canal.instance.enableDruid=false
canal.instance.filter.regex=shop\\\\..*,crm\\\\.customer
canal.instance.filter.black.regex=shop\\\\.tmp_.*
canal.instance.filter.field=shop.orders:id/total
canal.instance.filter.dml.delete=true
canal.instance.memory.buffer.size = 4096
canal.mq.topic=example
`;

test('a Canal conf directory is imported with its keys mapped, escapes undone and instance keys overriding', async () => {
  const dir = await canalDir({ 'canal.properties': CANAL_PROPERTIES, 'example/instance.properties': INSTANCE_PROPERTIES });
  try {
    const cfg = await loadConfig(dir, { env: { CANAL_DB_PASSWORD: 's3cret' } });
    assert.equal(cfg.format, 'canal-properties');
    assert.deepEqual(cfg.server.listen, { host: '127.0.0.1', port: 11111 });
    assert.deepEqual(cfg.server.auth, { user: 'canal', passwordHash: 'e3619321c1a937c46a0d8bd1dac39f93b27d4458' });
    assert.equal(cfg.server.admin.port, 11112);
    assert.equal(cfg.server.dataDir, join(dir, 'data'));
    assert.equal(cfg.server.flushIntervalMs, 500);
    assert.equal(cfg.instances.length, 1);
    const ex = cfg.instances[0]!;
    assert.equal(ex.destination, 'example');
    assert.deepEqual(ex.source, { host: '127.0.0.1', port: 3307, user: 'canal', password: 's3cret', slaveId: 1234, connectTimeoutMs: 10_000 });
    assert.deepEqual(ex.start, { kind: 'position', file: 'mysql-bin.000003', offset: 13788906 });
    assert.equal(ex.filter.include, 'shop\\..*,crm\\.customer', 'properties escaping \\\\ becomes one backslash');
    assert.equal(ex.filter.exclude, 'shop\\.tmp_.*');
    assert.equal(ex.filter.includeFields, 'shop.orders:id/total');
    assert.equal(ex.drop.delete, true);
    assert.equal(ex.drop.ddl, true, 'canal.properties supplies instance defaults');
    assert.deepEqual(ex.store, { maxEntries: 4096, maxBytes: 16 * 1024 * 1024, batchMode: 'ITEMSIZE', memUnit: 2048, ddlIsolation: true });
    assert.equal(cfg.server.zookeeper, undefined, 'an empty canal.zkServers means standalone');
    assert.ok(cfg.ignoredKeys.includes('canal.mq.topic'));
    assert.ok(cfg.ignoredKeys.includes('canal.instance.enableDruid'));
    assert.ok(!cfg.ignoredKeys.includes('canal.instance.filter.regex'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('canal.zkServers turns on high availability: register ip, canal.id and default-instance.xml are honoured', async () => {
  const props = CANAL_PROPERTIES.replace('canal.zkServers =', 'canal.zkServers = zk1:2181,zk2:2181\ncanal.register.ip = 10.0.0.5\ncanal.id = 7').replace(
    'spring/file-instance.xml',
    'spring/default-instance.xml',
  );
  const dir = await canalDir({ 'canal.properties': props, 'example/instance.properties': INSTANCE_PROPERTIES });
  try {
    const cfg = await loadConfig(dir, { env: { CANAL_DB_PASSWORD: 's3cret' } });
    assert.deepEqual(cfg.server.zookeeper, { connect: 'zk1:2181,zk2:2181', registerAddress: '10.0.0.5:11111', cid: 7, sessionTimeoutMs: 5_000, takeoverDelayMs: 2_000, connectTimeoutMs: 10_000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const noZk = await canalDir({ 'canal.properties': CANAL_PROPERTIES.replace('spring/file-instance.xml', 'spring/default-instance.xml'), 'example/instance.properties': INSTANCE_PROPERTIES });
  try {
    await assert.rejects(loadConfig(noZk, { env: { CANAL_DB_PASSWORD: 's3cret' } }), (err: unknown) => err instanceof ConfigError && /default-instance.xml keeps cursors in ZooKeeper: set canal.zkServers/.test(err.message));
  } finally {
    await rm(noZk, { recursive: true, force: true });
  }
});

test('GTID start is used only with canal.instance.gtidon=true', async () => {
  const inst = 'canal.instance.master.address=db:3306\ncanal.instance.dbUsername=u\ncanal.instance.dbPassword=p\ncanal.instance.gtidon=true\ncanal.instance.master.gtid=0-1-94\n';
  const dir = await canalDir({ 'canal.properties': 'canal.destinations=a\n', 'a/instance.properties': inst });
  try {
    const cfg = await loadConfig(dir, { env: {} });
    assert.deepEqual(cfg.instances[0]!.start, { kind: 'gtid', gtid: '0-1-94' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function canalError(files: Record<string, string>, env: Record<string, string> = {}): Promise<ConfigError> {
  const dir = await canalDir(files);
  try {
    await loadConfig(dir, { env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.fail('the Canal directory was accepted');
}

const OK_INSTANCE = 'canal.instance.master.address=db:3306\ncanal.instance.dbUsername=u\ncanal.instance.dbPassword=p\n';

test('a destination without its folder is an error on canal.destinations', async () => {
  const err = await canalError({ 'canal.properties': 'canal.destinations=example,missing\n', 'example/instance.properties': OK_INSTANCE });
  assert.match(err.message, /canal\.properties: canal\.destinations: names destination "missing" but missing\/instance\.properties does not exist/);
});

test('keys sluice cannot honour are errors naming the key and file', async () => {
  const err = await canalError({
    'canal.properties': 'canal.serverMode = kafka\ncanal.instance.tsdb.enable = true\ncanal.destinations=example\n',
    'example/instance.properties': OK_INSTANCE + 'canal.instance.multi.stream.on = true\n',
  });
  assert.match(err.message, /canal\.properties: canal\.serverMode: sluice serves only the Canal TCP protocol/);
  assert.match(err.message, /canal\.properties: canal\.instance\.tsdb\.enable: set it to false/);
  assert.match(err.message, /example\/instance\.properties: canal\.instance\.multi\.stream\.on: multi-stream parsing is not supported/);
});

test('an unknown canal. key is an error naming file, key and the closest known key; deliberately ignored keys load', async () => {
  const err = await canalError({
    'canal.properties': 'canal.destinations=example\ncanal.prot = 11111\ncanal.mq.servers = k:9092\n',
    'example/instance.properties': OK_INSTANCE + 'canal.instance.filter.regx = shop\\..*\ncanal.instance.detecting.sql = select 1\n',
  });
  assert.match(err.message, /example\/instance\.properties: canal\.instance\.filter\.regx: .*did you mean canal\.instance\.filter\.regex\b/);
  assert.match(err.message, /canal\.properties: canal\.prot: .*did you mean canal\.port\b/);
  assert.doesNotMatch(err.message, /canal\.mq\.servers|detecting\.sql/);
});

test('canal.instance.standby.* becomes a standby with the master account; detecting and fallback keys set failover', async () => {
  const dir = await canalDir({
    'canal.properties': 'canal.destinations=example\ncanal.instance.fallbackIntervalInSeconds = 30\n',
    'example/instance.properties':
      OK_INSTANCE +
      'canal.instance.standby.address = db2:3307\ncanal.instance.standby.journal.name = mysql-bin.000002\ncanal.instance.standby.position = 120\n' +
      'canal.instance.standby.timestamp =\ncanal.instance.standby.gtid = 0-2-5\ncanal.instance.detecting.retry.threshold = 4\n',
  });
  try {
    const cfg = await loadConfig(dir, { env: {} });
    const inst = cfg.instances[0]!;
    assert.deepEqual(inst.standby, { host: 'db2', port: 3307, user: 'u', password: 'p', connectTimeoutMs: 10_000, start: { kind: 'position', file: 'mysql-bin.000002', offset: 120 } });
    assert.equal(inst.failover?.afterFailedReconnects, 4);
    assert.equal(inst.failover?.fallbackMs, 30_000);
    assert.ok(cfg.ignoredKeys.includes('canal.instance.standby.gtid (canal.instance.gtidon is false)'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a bad standby address names the key; standby start keys without an address are ignored', async () => {
  const err = await canalError({ 'canal.properties': 'canal.destinations=example\n', 'example/instance.properties': OK_INSTANCE + 'canal.instance.standby.address = db2\n' });
  assert.match(err.message, /example\/instance\.properties: canal\.instance\.standby\.address: must be host:port/);
  const dir = await canalDir({ 'canal.properties': 'canal.destinations=example\n', 'example/instance.properties': OK_INSTANCE + 'canal.instance.standby.journal.name = mysql-bin.000002\ncanal.instance.standby.position = 4\n' });
  try {
    const cfg = await loadConfig(dir, { env: {} });
    assert.equal(cfg.instances[0]!.standby, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tsdb switched off in instance.properties overrides the stock global true', async () => {
  const dir = await canalDir({
    'canal.properties': 'canal.instance.tsdb.enable = true\ncanal.destinations=example\n',
    'example/instance.properties': OK_INSTANCE + 'canal.instance.tsdb.enable=false\n',
  });
  try {
    const cfg = await loadConfig(dir, { env: {} });
    assert.equal(cfg.instances.length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('type errors and missing keys name the property, not the JSON path', async () => {
  const err = await canalError({
    'canal.properties': 'canal.port = eleven\ncanal.destinations=example\n',
    'example/instance.properties': 'canal.instance.dbUsername=u\ncanal.instance.filter.regex=(oops\ncanal.instance.master.address=nohost\n',
  });
  assert.match(err.message, /canal\.properties: canal\.port: expected number, got string \(got "eleven"\)/);
  assert.match(err.message, /example\/instance\.properties: canal\.instance\.filter\.regex: the filter piece "\(oops" is not a valid regex/);
  assert.match(err.message, /example\/instance\.properties: canal\.instance\.master\.address: must be host:port/);
});

test('a missing environment secret in a property names the key', async () => {
  const err = await canalError({ 'canal.properties': 'canal.destinations=example\n', 'example/instance.properties': OK_INSTANCE.replace('=p', '=${DB_PW}') });
  assert.match(err.message, /example\/instance\.properties: canal\.instance\.dbPassword: environment variable DB_PW is not set/);
});

test('properties parsing: separators, comments, continuations and escapes', () => {
  const p = parseProperties('# c\n! c\na=1\nb : 2\nc 3\nd = x\\\n    y\ne = C:\\\\dir\\tz\nf = \\u0041\\=\ng\n');
  assert.deepEqual(
    Object.fromEntries([...p].map(([k, v]) => [k, v.value])),
    { a: '1', b: '2', c: '3', d: 'xy', e: 'C:\\dir\tz', f: 'A=', g: '' },
  );
  assert.equal(p.get('d')!.line, 6);
});
