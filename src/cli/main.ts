#!/usr/bin/env -S node --max-semi-space-size=8
// The `sluice` command: one subcommand per module in this folder.
import { Command } from 'commander';
import { registerCheck } from './check.ts';
import { registerPasswd } from './passwd.ts';
import { registerStart } from './start.ts';
import { registerPositions } from './positions.ts';
import { registerTail } from './tail.ts';
import { registerSnapshot } from './snapshot.ts';

// A reader that has gone away (`sluice ... | head`) is not an error worth a crash: what is
// still written is dropped.
for (const out of [process.stdout, process.stderr]) {
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

const program = new Command();
program
  .name('sluice')
  .description('MySQL/MariaDB binlog change-data-capture server, wire-compatible with Alibaba Canal')
  .version('0.1.0')
  .showHelpAfterError();

registerCheck(program);
registerPasswd(program);
registerStart(program);
registerPositions(program);
registerTail(program);
registerSnapshot(program);

await program.parseAsync(process.argv);
