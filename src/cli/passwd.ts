// `sluice passwd`: prints the value to store as the server password (Canal's canal.passwd):
// hex SHA1(SHA1(password)), which is MySQL PASSWORD() output without the leading '*'.
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { storedPasswordHash } from '../protocol/auth.ts';

async function readLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

export function registerPasswd(program: Command): void {
  program
    .command('passwd')
    .description('print the SHA1(SHA1(password)) hash to put in the server config (canal.passwd); reads the password from stdin unless given')
    .argument('[password]', 'the plaintext password (prefer stdin: arguments show up in process lists)')
    .action(async (password: string | undefined) => {
      const pw = password ?? (await readLine());
      process.stdout.write(storedPasswordHash(pw) + '\n');
    });
}
