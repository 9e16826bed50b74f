import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratchDir, scratchDir } from './leftovers.js';
import { command, type Reply } from './redis-protocol.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { waitUntil } from './wait.js';

export interface RedisSentinelOptions {
  /** Sets `requirepass` and `masterauth` on the primary and the replica (the Sentinels themselves take none). */
  password?: string;
  /** The master group's name (default `mymaster`). */
  masterName?: string;
  /** How long a primary may not answer before a Sentinel thinks it down (default 1000 ms). */
  downAfterMs?: number;
  /** Sentinel's failover-timeout (default 3000 ms). */
  failoverTimeoutMs?: number;
  /** How long to wait for servers, replication and Sentinels to see each other. Default 20 s. */
  startTimeoutMs?: number;
}

/** A primary, one replica and three Sentinels (quorum 2) watching them, all redis-server processes on loopback. */
export interface RedisSentinel {
  /** `host:port` of each Sentinel: what `redis+sentinel://` names. */
  sentinels: string[];
  masterName: string;
  /** The two data servers, in start order (the first began as primary). */
  servers: RedisServer[];
  /** The server the Sentinels name as primary now. */
  primary(): Promise<RedisServer>;
  /**
   * Fails the primary over to the replica (once the replica has acknowledged every write so far,
   * unless `sync` is false: a replica cut off on purpose, see cutReplication, never will)
   * and resolves once the Sentinels name the new one:
   * `kill` stops the old primary (they notice after downAfterMs; restart it with `servers[i].restart()`),
   * `command` asks a Sentinel (`SENTINEL FAILOVER`).
   * With `whileDown` (`kill` only) there is no primary until it resolves (the replica is held back:
   * replica-priority 0), then a Sentinel is asked to fail over: a test sees the outage, however
   * fast Sentinel would have been.
   */
  failover(how: 'kill' | 'command', options?: { sync?: boolean; whileDown?: () => Promise<void> }): Promise<{ from: RedisServer; to: RedisServer }>;
  /** Stops everything and removes the directories. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinel> {
  const name = options.masterName ?? 'mymaster';
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const pass = options.password;
  const authArgs = pass === undefined ? [] : ['--masterauth', pass];
  const servers: RedisServer[] = [];
  const sentinels: RedisServer[] = [];
  const dirs: string[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all([...sentinels, ...servers].map((s) => s.stop()));
    for (const dir of [...dirs, ...sentinels.map((s) => s.dir), ...servers.map((s) => s.dir)]) removeScratchDir(dir);
  };
  const auth = (server: RedisServer): string[][] => (pass !== undefined && servers.includes(server) ? [['AUTH', pass]] : []);
  const ask = async (server: RedisServer, cmd: string[]): Promise<Reply> => (await command(server.port, [...auth(server), cmd])).at(-1)!;
  const named = async (): Promise<RedisServer | undefined> => {
    const answers = await Promise.all(sentinels.map((s) => ask(s, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]).catch(() => null)));
    const ports = new Set(answers.map((a) => (Array.isArray(a) ? Number(a[1]) : 0)));
    if (ports.size !== 1) return undefined; // not agreed yet
    return servers.find((s) => ports.has(s.port));
  };

  try {
    const primary = await startRedisServer({ password: pass, startTimeoutMs: timeoutMs, args: authArgs });
    servers.push(primary);
    servers.push(await startRedisServer({ password: pass, startTimeoutMs: timeoutMs, args: [...authArgs, '--replicaof', primary.host, String(primary.port)] }));
    await waitUntil('the replica in sync', async () => /master_link_status:up/.test(String(await ask(servers[1]!, ['INFO', 'replication']))), timeoutMs, 50);
    for (let i = 0; i < 3; i++) {
      const dir = scratchDir('tessera-sentinel-');
      dirs.push(dir);
      const file = join(dir, 'sentinel.conf');
      const lines = [
        `sentinel monitor ${name} ${primary.host} ${primary.port} 2`,
        `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 3000}`,
        `sentinel parallel-syncs ${name} 1`,
        'sentinel announce-ip 127.0.0.1',
        ...(pass === undefined ? [] : [`sentinel auth-pass ${name} ${pass}`]),
      ];
      writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
      sentinels.push(await startRedisServer({ configFile: file, startTimeoutMs: timeoutMs, args: ['--sentinel'] }));
    }
    // Each Sentinel has to find the replica and the two other Sentinels before a failover can be agreed.
    await waitUntil(
      'the Sentinels to see the replica and each other',
      async () => {
        for (const s of sentinels) {
          const fields = (await ask(s, ['SENTINEL', 'MASTER', name])) as Reply[];
          const field = (key: string) => Number(fields[fields.indexOf(key) + 1]);
          if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) return false;
        }
        return true;
      },
      timeoutMs,
      50,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const primary = async (): Promise<RedisServer> => {
    const found = await named();
    if (found === undefined) throw new Error('the Sentinels do not agree on a primary');
    return found;
  };
  return {
    sentinels: sentinels.map((s) => `${s.host}:${s.port}`),
    masterName: name,
    servers,
    primary,
    async failover(how, { sync = true, whileDown } = {}) {
      const from = await primary();
      const replica = servers.find((s) => s !== from)!;
      // what the primary acknowledged before this call is on the replica first: a test then sees the failover, not replication lag
      const synced = sync ? await ask(from, ['WAIT', '1', '2000']) : 1;
      if (synced !== 1) throw new Error(`the replica did not acknowledge the primary's writes within 2 s (WAIT: ${String(synced)})`);
      if (how === 'kill' && whileDown !== undefined) {
        await ask(replica, ['CONFIG', 'SET', 'replica-priority', '0']); // no Sentinel promotes it
        await from.stop();
        await whileDown();
        await ask(replica, ['CONFIG', 'SET', 'replica-priority', '100']);
        // a Sentinel refuses (NOGOODSLAVE) until it has read the replica's new priority, within a second
        await waitUntil('a Sentinel to start the failover', async () => (await ask(sentinels[0]!, ['SENTINEL', 'FAILOVER', name])) === 'OK', timeoutMs, 100);
      } else if (how === 'kill') await from.stop();
      else {
        const reply = await ask(sentinels[0]!, ['SENTINEL', 'FAILOVER', name]);
        if (reply !== 'OK') throw new Error(`SENTINEL FAILOVER: ${String(reply)}`);
      }
      let to: RedisServer | undefined;
      await waitUntil('the Sentinels to name a new primary', async () => {
        to = await named();
        return to !== undefined && to !== from;
      }, timeoutMs, 50);
      return { from, to: to! };
    },
    stop,
  };
}
