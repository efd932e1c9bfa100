// Configuration of routing: group destinations in both forms (JSON `sources`, Canal's
// group-instance.xml with canal.instance.masterN.*), row filters and the shared reader settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

async function withDir<T>(files: Record<string, string | object>, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-routing-cfg-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      const p = join(dir, name);
      await mkdir(join(p, '..'), { recursive: true });
      await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    }
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function errorOf(files: Record<string, string | object>): Promise<string> {
  return await withDir(files, async (dir) => {
    try {
      await loadConfig(dir, { env: {} });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    return assert.fail('the configuration was accepted');
  });
}

const A = { host: 'db1', port: 3306, user: 'repl', password: 'pw' };
const B = { host: 'db2', port: 3307, user: 'repl', password: 'pw' };

test('JSON group: sources named and started each on its own, the first is the primary; defaults for group and reader', async () => {
  await withDir(
    {
      'instances/orders.json': {
        sources: [
          { ...A, name: 'east', start: { file: 'mysql-bin.000002', position: 4 } },
          { ...B, slaveId: 77 },
        ],
        filter: { rows: [{ table: 'shop.orders', column: 'tenant_id', in: [7, '9', null] }] },
      },
    },
    async (dir) => {
      const cfg = await loadConfig(dir, { env: {} });
      const inst = cfg.instances[0]!;
      assert.equal(inst.source.host, 'db1', 'source is the primary');
      assert.deepEqual(
        inst.sources?.map((s) => [s.name, s.host, s.port, s.slaveId, s.start]),
        [
          ['east', 'db1', 3306, undefined, { kind: 'position', file: 'mysql-bin.000002', offset: 4 }],
          ['db2:3307', 'db2', 3307, 77, { kind: 'end' }],
        ],
      );
      assert.deepEqual(inst.group, { skewMs: 1000, onSourceFailure: 'continue' });
      assert.deepEqual(inst.reader, { shared: true, windowBytes: 8 * 1024 * 1024 });
      assert.deepEqual(inst.filter.rows, [{ table: 'shop.orders', column: 'tenant_id', mode: 'in', values: [7, '9', null] }]);
    },
  );
});

test('JSON group mistakes are named: both forms, a top-level start, one source, duplicate names, a row filter without in/notIn', async () => {
  assert.match(await errorOf({ 'instances/x.json': { source: A, sources: [A, B] } }), /instances\/x\.json: sources: give either "source".*not both/);
  assert.match(await errorOf({ 'instances/x.json': { sources: [A, B], start: { gtid: '0-1-5' } } }), /instances\/x\.json: start: a group destination starts each source on its own/);
  assert.match(await errorOf({ 'instances/x.json': { sources: [A] } }), /sources: must be at least 2/);
  assert.match(await errorOf({ 'instances/x.json': { sources: [{ ...A, name: 'n' }, { ...B, name: 'n' }] } }), /sources\.1\.name: source name "n" is used twice/);
  assert.match(await errorOf({ 'instances/x.json': { source: A, group: { skewMs: 10 } } }), /group: "group" settings apply only/);
  assert.match(await errorOf({ 'instances/x.json': { source: A, filter: { rows: [{ table: 'shop.orders', column: 'c' }] } } }), /filter\.rows\.0.*exactly one of "in"/);
  assert.match(await errorOf({ 'instances/x.json': { source: A, filter: { rows: [{ table: 'orders', column: 'c', in: [1] }] } } }), /filter\.rows\.0\.table.*schema\.table/);
});

test("Canal group instance: group-instance.xml with canal.instance.masterN.* becomes a group named master1, master2", async () => {
  const files = {
    'canal.properties': 'canal.destinations = sharded\ncanal.instance.global.spring.xml = classpath:spring/group-instance.xml\n',
    'sharded/instance.properties': [
      'canal.instance.master1.address = 10.0.0.1:3306',
      'canal.instance.master1.journal.name = mysql-bin.000007',
      'canal.instance.master1.position = 120',
      'canal.instance.master2.address = 10.0.0.2:3306',
      'canal.instance.master2.timestamp = 1700000000000',
      'canal.instance.dbUsername = canal',
      'canal.instance.dbPassword = secret',
      'canal.instance.filter.regex = shop\\\\..*',
    ].join('\n'),
  };
  await withDir(files, async (dir) => {
    const cfg = await loadConfig(dir, { env: {} });
    const inst = cfg.instances[0]!;
    assert.deepEqual(
      inst.sources?.map((s) => [s.name, s.host, s.port, s.user, s.password, s.start]),
      [
        ['master1', '10.0.0.1', 3306, 'canal', 'secret', { kind: 'position', file: 'mysql-bin.000007', offset: 120 }],
        ['master2', '10.0.0.2', 3306, 'canal', 'secret', { kind: 'timestamp', ms: 1700000000000 }],
      ],
    );
    assert.equal(inst.filter.include, 'shop\\..*');
    assert.ok(!cfg.ignoredKeys.some((k) => k.startsWith('canal.instance.master')), `no member key is reported as ignored: ${cfg.ignoredKeys.join(',')}`);
  });
  const gap = { ...files, 'sharded/instance.properties': files['sharded/instance.properties'].replaceAll('master2', 'master3') };
  assert.match(await errorOf(gap), /canal\.instance\.master1\.address: a group instance needs .*numbered without gaps \(found master1, master3\)/);
  const standby = { ...files, 'sharded/instance.properties': `${files['sharded/instance.properties']}\ncanal.instance.standby1.address = 10.0.0.9:3306` };
  assert.match(await errorOf(standby), /canal\.instance\.standby1\.address: standby sources of a group member are not supported/);
});
