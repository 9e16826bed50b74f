import { spawn } from 'node:child_process';
import { removeScratchDir } from './leftovers.js';
import { command, type Reply } from './redis-protocol.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { waitUntil } from './wait.js';

export interface RedisClusterOptions {
  /** Sets `requirepass` (and `masterauth`) on every node. */
  password?: string;
  /** Primaries (default 3). */
  primaries?: number;
  /**
   * Replicas of each primary (default 0). With them, a primary that stops is failed over
   * to its replica (after nodeTimeoutMs), however long that replica has been cut off.
   */
  replicas?: number;
  /** How long a node may be unreachable before the others mark it failed (default 1000 ms). */
  nodeTimeoutMs?: number;
  /** How long to wait for the servers and for `cluster_state:ok`. Default 20 s. */
  startTimeoutMs?: number;
  /** `redis-cli`; default `$REDIS_CLI` or `redis-cli` on PATH. */
  cli?: string;
}

/** A Redis Cluster of primaries (and their replicas, if asked for), each a redis-server keeping an append-only file (fsync always). */
export interface RedisCluster {
  /** Every node, in start order (the primaries first, as redis-cli assigns them); each can be stopped and restarted on its port with its data. */
  nodes: RedisServer[];
  /** `host:port` of every node: what `redis+cluster://` names. */
  addresses: string[];
  /** The primary that holds `key`'s slot (by hash tag). */
  primaryFor(key: string): Promise<RedisServer>;
  /** The replica of `primary` (a cluster started with replicas). */
  replicaOf(primary: RedisServer): Promise<RedisServer>;
  /**
   * Stops `primary` and resolves with its replica once that serves its slots (cluster_state:ok on
   * every running node). With `whileDown` the slots have no primary until it resolves (the replica
   * is held back: cluster-replica-no-failover), then the replica takes over (CLUSTER FAILOVER
   * FORCE): a test sees the outage, however fast the cluster would have been.
   */
  failover(primary: RedisServer, options?: { whileDown?: () => Promise<void> }): Promise<RedisServer>;
  /** Resolves once every running node reports `cluster_state:ok`. */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  /** Stops every node and removes their directories. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts `primaries` cluster-enabled redis-servers on free loopback ports and joins them with `redis-cli --cluster create`. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const replicas = options.replicas ?? 0;
  const count = (options.primaries ?? 3) * (1 + replicas);
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const args = [
    '--cluster-enabled', 'yes',
    '--cluster-config-file', 'nodes.conf', // relative to the server's own --dir
    '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
    '--cluster-announce-ip', '127.0.0.1',
    ...(options.password === undefined ? [] : ['--masterauth', options.password]),
    // a replica takes over however long it has been cut off (cutReplication): what it missed is what a failover loses
    ...(replicas > 0 ? ['--cluster-replica-validity-factor', '0', '--repl-diskless-sync-delay', '0'] : []),
  ];
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    for (const node of nodes) removeScratchDir(node.dir);
  };
  try {
    for (let i = 0; i < count; i++) nodes.push(await startRedisServer({ password: options.password, persistence: true, startTimeoutMs: timeoutMs, args }));
    const auth = options.password === undefined ? [] : ['-a', options.password, '--no-auth-warning'];
    await run(options.cli ?? process.env['REDIS_CLI'] ?? 'redis-cli', [
      '--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes', ...auth,
    ]);
  } catch (err) {
    await stop();
    throw err;
  }

  const ask = (node: RedisServer, cmd: string[]): Promise<Reply> =>
    command(node.port, [...(options.password === undefined ? [] : [['AUTH', options.password]]), cmd]).then((r) => r.at(-1)!);
  const running = async (node: RedisServer): Promise<boolean> => ask(node, ['PING']).then(() => true, () => false);
  const waitUntilOk = async (ms = timeoutMs): Promise<void> => {
    await waitUntil(
      'cluster_state:ok on every running node',
      async () => {
        for (const node of nodes) {
          if (!(await running(node))) continue;
          if (!/cluster_state:ok/.test(String(await ask(node, ['CLUSTER', 'INFO'])))) return false;
        }
        return true;
      },
      ms,
      50,
    );
  };
  try {
    await waitUntilOk();
    // a replica is one once it holds its primary's data: not before its first sync is done
    await waitUntil(
      'every replica in sync with its primary',
      async () => {
        let synced = 0;
        for (const node of nodes) if (/master_link_status:up/.test(String(await ask(node, ['INFO', 'replication'])))) synced++;
        return synced === nodes.length - (options.primaries ?? 3);
      },
      timeoutMs,
      50,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const replicaOf = async (primary: RedisServer): Promise<RedisServer> => {
    // CLUSTER NODES: "<id> <ip:port@cport> <flags> <primary id or -> ...", one line a node
    const lines = String(await ask(primary, ['CLUSTER', 'NODES'])).split('\n').map((line) => line.split(' '));
    const id = lines.find((f) => f[1]?.startsWith(`${primary.host}:${primary.port}@`))?.[0];
    const replica = lines.find((f) => id !== undefined && f[3] === id && /slave|replica/.test(f[2] ?? ''));
    const port = Number(/:(\d+)@/.exec(replica?.[1] ?? '')?.[1]);
    const found = nodes.find((n) => n.port === port);
    if (found === undefined) throw new Error(`no replica of the primary on port ${primary.port}`);
    return found;
  };

  return {
    nodes,
    addresses: nodes.map((n) => `${n.host}:${n.port}`),
    async primaryFor(key) {
      for (const node of nodes) {
        if (!(await running(node))) continue;
        const slot = Number(await ask(node, ['CLUSTER', 'KEYSLOT', key]));
        const ranges = (await ask(node, ['CLUSTER', 'SLOTS'])) as Reply[];
        for (const range of ranges as Reply[][]) {
          const [from, to, primary] = range as [number, number, Reply[]];
          if (slot >= from && slot <= to) {
            const owner = nodes.find((n) => n.port === Number(primary[1]));
            if (owner !== undefined) return owner;
          }
        }
      }
      throw new Error(`no running node knows the primary of ${JSON.stringify(key)}`);
    },
    replicaOf,
    async failover(primary, { whileDown } = {}) {
      const replica = await replicaOf(primary);
      if (whileDown !== undefined) await ask(replica, ['CONFIG', 'SET', 'cluster-replica-no-failover', 'yes']);
      await primary.stop();
      if (whileDown !== undefined) {
        await whileDown();
        await waitUntil('the replica to take over', async () => (await ask(replica, ['CLUSTER', 'FAILOVER', 'FORCE'])) === 'OK' || /role:master/.test(String(await ask(replica, ['INFO', 'replication']))), timeoutMs, 100);
        await ask(replica, ['CONFIG', 'SET', 'cluster-replica-no-failover', 'no']);
      }
      await waitUntil('the replica to be primary', async () => /role:master/.test(String(await ask(replica, ['INFO', 'replication']))), timeoutMs, 50);
      await waitUntilOk();
      return replica;
    },
    waitUntilOk,
    stop,
  };
}

/** Runs a command to its end; rejects with its output when it fails (or is missing, in the words ownRedis skips on). */
async function run(binary: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error(`${binary} not found: install the Debian package "redis-tools" or set REDIS_CLI to its path`) : err),
    );
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${binary} ${args.slice(0, 2).join(' ')} failed (${code}): ${output.trim()}`))));
  });
}
