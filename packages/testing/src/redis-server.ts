import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { defineError } from '@tessera/core';
import { freePort } from './free-port.js';
import { killOnExit, scratchDir } from './leftovers.js';
import { command } from './redis-protocol.js';

/** redis-server found its port taken: start again on another. */
const PortInUseError = defineError('PortInUseError', 'PORT_IN_USE');

export interface RedisServerOptions {
  /** Sets `requirepass`; the URL then carries it. */
  password?: string;
  /** Keep data across restart() (append-only file in the server's directory). Off by default. */
  persistence?: boolean;
  /** Start as a one-node Redis Cluster holding every slot (checks hash-tag discipline). */
  cluster?: boolean;
  /** How long to wait for the server to answer PING. Default 10 s. */
  startTimeoutMs?: number;
  /** The executable; default `$REDIS_SERVER` or `redis-server` on PATH. */
  binary?: string;
  /** More `--name value` arguments for redis-server. */
  args?: string[];
  /** A configuration file redis-server reads first (e.g. a Sentinel's, which it rewrites: keep it in a writable directory). */
  configFile?: string;
}

/** A redis-server child process on a loopback port of its own. */
export interface RedisServer {
  /** `redis://[:password@]127.0.0.1:<port>` */
  url: string;
  host: string;
  port: number;
  /** The server's working directory (kept across restart(), removed when the test process ends). */
  dir: string;
  /** Kills the server and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
  /** Starts the server again on the same port (stopping it first if it runs). */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Starts a real redis-server on a free loopback port in a temporary directory and waits until it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = scratchDir('tessera-redis-');
  const binary = options.binary ?? process.env['REDIS_SERVER'] ?? 'redis-server';
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const server = await spawnServer(binary, serverArgs(port, dir, options));
    child = server.child;
    try {
      await waitUntilAnswering(server, port, options.password, options.startTimeoutMs ?? 10_000);
      if (options.cluster) await assignAllSlots(port, options.password, options.startTimeoutMs ?? 10_000);
    } catch (err) {
      await kill(server.child);
      throw err;
    }
  };

  // Another process may take the port between freePort() and listen(): try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 3 || !(err instanceof PortInUseError)) throw err;
    }
  }

  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return {
    url: `redis://${auth}${HOST}:${port}`,
    host: HOST,
    port,
    dir,
    stop: async () => {
      if (child !== undefined) await kill(child);
    },
    restart: async () => {
      if (child !== undefined) await kill(child);
      const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
      // The old socket may linger for a moment; retry the same port until the deadline.
      for (;;) {
        try {
          await launch();
          return;
        } catch (err) {
          if (!(err instanceof PortInUseError) || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
  };
}

function serverArgs(port: number, dir: string, options: RedisServerOptions): string[] {
  const args = [
    ...(options.configFile === undefined ? [] : [options.configFile]),
    '--port', String(port),
    '--bind', HOST,
    '--dir', dir,
    '--daemonize', 'no',
    '--save', '',
    '--appendonly', options.persistence ? 'yes' : 'no',
    '--logfile', '',
    '--loglevel', 'warning',
  ];
  if (options.persistence) args.push('--appendfsync', 'always');
  if (options.password !== undefined) args.push('--requirepass', options.password);
  // A lone node never learns its own address from peers: announce it, or CLUSTER SLOTS names no host.
  if (options.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-announce-ip', HOST);
  args.push(...(options.args ?? []));
  return args;
}

/** A started process and the tail of what it printed (for error messages). */
interface Spawned {
  child: ChildProcess;
  output(): string;
}

async function spawnServer(binary: string, args: string[]): Promise<Spawned> {
  return await new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new Error(`${binary} not found: install the Debian package "redis-server" (apt-get install redis-server) or set REDIS_SERVER to its path`));
      } else {
        reject(new Error(`could not start ${binary}: ${err.message}`));
      }
    });
    child.once('spawn', () => {
      killOnExit(child);
      resolve({ child, output: () => output });
    });
  });
}

async function waitUntilAnswering(server: Spawned, port: number, password: string | undefined, timeoutMs: number): Promise<void> {
  const { child } = server;
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const output = server.output();
      if (/address already in use/i.test(output)) throw new PortInUseError(`port ${port} is in use`);
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}) before answering PING: ${output.trim()}`);
    }
    try {
      const reply = await command(port, password === undefined ? [['PING']] : [['AUTH', password], ['PING']]);
      if (reply.at(-1) === 'PONG') return;
      last = String(reply.at(-1));
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      await kill(child);
      throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms (last: ${last ?? 'nothing'})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function assignAllSlots(port: number, password: string | undefined, timeoutMs: number): Promise<void> {
  const auth = password === undefined ? [] : [['AUTH', password]];
  const deadline = Date.now() + timeoutMs;
  const info = async () => String((await command(port, [...auth, ['CLUSTER', 'INFO']])).at(-1));
  // After a restart, nodes.conf already holds the slots.
  if (!/cluster_slots_assigned:16384/.test(await info())) {
    await command(port, [...auth, ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']]);
  }
  while (!/cluster_state:ok/.test(await info())) {
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port}: cluster did not become ok within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
