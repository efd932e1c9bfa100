import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { SERVER_NODE_FLAGS } from '../../src/cli/node-flags.ts';

test('the sluice command starts node with exactly SERVER_NODE_FLAGS', async () => {
  const first = (await readFile(new URL('../../src/cli/main.ts', import.meta.url), 'utf8')).split('\n')[0]!;
  assert.equal(first, `#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}`);
});
