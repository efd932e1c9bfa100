// Canal keys sluice knows but deliberately does not use, and the closest-key suggestion for a
// `canal.` key that is neither used nor on this list. A typo in the canal. namespace must not
// fail open (e.g. `canal.instance.filter.regx` would otherwise stream every table).

/** Whole families of Canal features sluice does not have (MQ delivery, canal-admin, Aliyun RDS, table-schema history). */
const IGNORED_PREFIXES = ['canal.mq.', 'canal.admin.', 'canal.aliyun.', 'canal.instance.rds.', 'canal.instance.tsdb.'];

/** Single Canal keys sluice reads past on purpose (tuning of Canal's own parser, network and HA checks). */
const IGNORED_KEYS = new Set([
  'canal.withoutNetty',
  'canal.zookeeper.flush.period',
  'canal.auto.scan',
  'canal.auto.scan.interval',
  'canal.auto.reset.latest.pos.mode',
  'canal.instance.global.name',
  'canal.instance.global.lazy',
  'canal.instance.global.manager.address',
  'canal.instance.memory.rawEntry',
  'canal.instance.detecting.enable',
  'canal.instance.detecting.sql',
  'canal.instance.detecting.interval.time',
  'canal.instance.detecting.heartbeatHaEnable',
  'canal.instance.transaction.size',
  'canal.instance.network.receiveBufferSize',
  'canal.instance.network.sendBufferSize',
  'canal.instance.network.soTimeout',
  'canal.instance.filter.druid.ddl',
  'canal.instance.binlog.format',
  'canal.instance.binlog.image',
  'canal.instance.parser.parallel',
  'canal.instance.parser.parallelThreadSize',
  'canal.instance.parser.parallelBufferSize',
  'canal.instance.enableDruid',
  'canal.instance.pwdPublicKey',
  'canal.instance.defaultDatabaseName',
]);

/** True for a Canal key that sluice knows and ignores on purpose. */
export function deliberatelyIgnored(key: string): boolean {
  return IGNORED_KEYS.has(key) || IGNORED_PREFIXES.some((p) => key.startsWith(p));
}

/** Every exact ignored key, for suggestions. */
export function ignoredKeyNames(): string[] {
  return [...IGNORED_KEYS];
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The message for an unknown `canal.` key: the closest known key by edit distance (case-insensitive). */
export function unknownKeyProblem(key: string, known: Iterable<string>): string {
  let best = '';
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return `is not a Canal key sluice knows; did you mean ${best}? (Canal keys sluice uses or deliberately ignores are listed in docs/configuration.md)`;
}
