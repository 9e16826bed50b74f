import { command, type Reply } from './redis-protocol.js';
import type { RedisServer } from './redis-server.js';
import { waitUntil } from './wait.js';

/** Runs `cmd` on `server` after AUTH; fails on an error reply. */
async function ask(server: RedisServer, password: string, cmd: string[]): Promise<Reply> {
  const reply = (await command(server.port, [['AUTH', password], cmd])).at(-1)!;
  if (typeof reply === 'string' && /^(ERR|WRONGPASS|NOAUTH|NOPERM)/.test(reply)) throw new Error(`${cmd.slice(0, 2).join(' ')} on port ${server.port}: ${reply}`);
  return reply;
}

/**
 * Cuts `replica` off `primary` and keeps it off: its link is dropped and it can no longer
 * authenticate (its masterauth is changed), so what the primary acknowledges from now on never
 * reaches it: what a failover to it then loses. Resolves once the primary counts no replica.
 * `restore()` gives `replica` its masterauth back (after it is promoted, so that it can be a
 * replica again later).
 */
export async function cutReplication(replica: RedisServer, primary: RedisServer, password: string, timeoutMs = 20_000): Promise<{ restore(): Promise<void> }> {
  await ask(replica, password, ['CONFIG', 'SET', 'masterauth', `${password}-cut-off`]);
  await ask(replica, password, ['CLIENT', 'KILL', 'TYPE', 'master']);
  await waitUntil(
    'the primary to count no replica',
    async () => /connected_slaves:0\r?\n/.test(String(await ask(primary, password, ['INFO', 'replication']))),
    timeoutMs,
    20,
  );
  return {
    async restore() {
      await ask(replica, password, ['CONFIG', 'SET', 'masterauth', password]);
    },
  };
}
