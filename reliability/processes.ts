// The processes a scenario starts (`tessera hub`, influxdb-local, client processes), each
// with everything it prints kept as evidence and stopped by its PID: `stopAll()` ends
// every one still running (a scenario calls it in `finally`).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AccessLogEntry } from '@tessera/influxdb-local';
import { freePort } from '@tessera/testing';
import type { Evidence } from './evidence.js';

const root = fileURLToPath(new URL('../', import.meta.url));
export const TESSERA_BIN = join(root, 'packages/cli/dist/bin.js');
const INFLUXDB_LOCAL_BIN = join(root, 'packages/influxdb-local/dist/bin.js');
/** How long a process may take to print its ready line. */
const START_TIMEOUT_MS = 30_000;
/** The tail of a process's output kept for error messages (evidence keeps all of it). */
const TAIL = 8_000;

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LoggedProcess {
  label: string;
  pid: number;
  child: ChildProcess;
  /** The tail of what it printed, for error messages. */
  tail(): string;
  alive(): boolean;
  /** Resident set size now (bytes), from /proc; 0 once it has ended. */
  rssBytes(): number;
  /** Sends `signal` (if it still runs) and resolves with how it ended. */
  kill(signal?: NodeJS.Signals): Promise<Ended>;
  /** Writes to its stdin (started with `stdin: true`); false when it has ended or has no stdin. */
  write(text: string): boolean;
  ended: Promise<Ended>;
}

const running = new Set<LoggedProcess>();

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Resolves the start once what the process printed matches. */
  ready: RegExp;
  /** Keep its stdin open for `write` (default: ignored). */
  stdin?: boolean;
  /** Called with every whole line it prints on stdout, from the first (a process that reports as JSON lines). */
  onLine?: (line: string) => void;
}

/**
 * Starts `node <args>` with `env` added to this process's (minus TESSERA_* and INFLUX_*),
 * every byte it prints kept in `evidence` under `label`; resolves once its output matches
 * `ready` (with the match), rejects if it ends or takes over 30 s first.
 */
export async function spawnLogged(evidence: Evidence, label: string, args: string[], options: SpawnOptions): Promise<{ process: LoggedProcess; match: RegExpExecArray }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('TESSERA_') && !key.startsWith('INFLUX_')) env[key] = value;
  Object.assign(env, options.env);
  const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  // a process that ends while we write to it must not fail the scenario: `exit` tells
  child.stdin.on('error', () => undefined);
  // without `stdin`, it reads end of file at once, as from /dev/null
  if (options.stdin !== true) child.stdin.end();
  let tail = '';
  const ended = new Promise<Ended>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const handle: LoggedProcess = {
    label,
    pid: child.pid ?? -1,
    child,
    tail: () => tail,
    alive: () => child.exitCode === null && child.signalCode === null,
    rssBytes: () => (handle.alive() ? rssOf(handle.pid) : 0),
    async kill(signal = 'SIGTERM') {
      if (handle.alive()) child.kill(signal);
      const end = await ended;
      running.delete(handle);
      return end;
    },
    write: (text) => (handle.alive() && child.stdin.writable ? child.stdin.write(text) : false),
    ended,
  };
  running.add(handle);
  void ended.then(() => running.delete(handle));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let seen = '';
    let settled = false;
    const timer = setTimeout(() => settle(new Error(`${label} did not start within ${START_TIMEOUT_MS / 1000} s:\n${tail}`)), START_TIMEOUT_MS);
    const settle = (outcome: RegExpExecArray | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof Error) {
        void handle.kill('SIGKILL');
        reject(outcome);
      } else resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      evidence.output(label, text);
      tail = (tail + text).slice(-TAIL);
      if (!settled) {
        seen = (seen + text).slice(-TAIL);
        const m = options.ready.exec(seen);
        if (m !== null) settle(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    if (options.onLine !== undefined) forEachLine(child.stdout, options.onLine);
    child.once('error', (err) => settle(err));
    void ended.then((end) => settle(new Error(`${label} ended (${end.code ?? end.signal}) before it was ready:\n${tail}`)));
  });
  return { process: handle, match };
}

/** Calls `onLine` with every whole line `stream` gives (a last line without a newline too, at its end). */
function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (partial !== '') onLine(partial);
    partial = '';
  });
}

/** Ends every process still running (SIGKILL), by its PID. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill('SIGKILL')));
}

/** VmRSS of `pid` in bytes (0 if it is gone). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks (100 on every mainstream architecture). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) `pid` has used so far, from /proc (0 if it is gone). */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export interface InfluxdbLocalProcess {
  url: string;
  port: number;
  token: string;
  process: LoggedProcess;
  /** The same server (port, token, persist file) started again, e.g. after a kill: with a persist file, its tokens survive. */
  restart(): Promise<InfluxdbLocalProcess>;
}

export interface InfluxdbLocalOptions {
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Keep its state (tokens, points) in this file, so a restart keeps it (`--persist`). */
  persist?: string;
  /** Have it print one JSON line per request answered (`--access-log`), each given to this (and to every restart's). */
  accessLog?: (entry: AccessLogEntry) => void;
}

/** influxdb-local in a process of its own on a free port, its operator token a secret in `evidence`. */
export async function startInfluxdbLocal(evidence: Evidence, token: string, options: InfluxdbLocalOptions = {}): Promise<InfluxdbLocalProcess> {
  evidence.secret('the InfluxDB operator token', token);
  const args = [INFLUXDB_LOCAL_BIN, '--port', String(options.port ?? 0), '--org', 'tessera', '--bucket', 'tessera'];
  if (options.persist !== undefined) args.push('--persist', options.persist);
  const accessLog = options.accessLog;
  if (accessLog !== undefined) args.push('--access-log');
  const { process, match } = await spawnLogged(evidence, 'influxdb-local', args, {
    env: { INFLUX_TOKEN: token },
    ready: /listening on (http:\/\/\S+)/,
    ...(accessLog === undefined ? {} : { onLine: (line: string) => accessLogLine(line, accessLog) }),
  });
  const url = match[1]!;
  const port = Number(new URL(url).port);
  return { url, port, token, process, restart: () => startInfluxdbLocal(evidence, token, { ...options, port }) };
}

/** An access log line of influxdb-local, given to `accessLog`; its other lines are not JSON and are skipped. */
function accessLogLine(line: string, accessLog: (entry: AccessLogEntry) => void): void {
  if (!line.startsWith('{')) return;
  try {
    const entry = JSON.parse(line) as Partial<AccessLogEntry>;
    if (typeof entry.method === 'string' && typeof entry.path === 'string' && typeof entry.status === 'number' && typeof entry.ms === 'number') {
      accessLog({ method: entry.method, path: entry.path, status: entry.status, ms: entry.ms });
    }
  } catch {
    // not an access log line
  }
}

export interface SecureHubOptions {
  /** Directory for the hub's identity file. */
  dir: string;
  storage: string;
  influx: { url: string; token: string };
  /** Admin identifiers (I…). */
  admins: string[];
  port?: number;
  metricsPort?: number;
  /** More `tessera hub` arguments (limits, --log-level: default info). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  label?: string;
}

export interface SecureHubProcess {
  url: string;
  port: number;
  metricsUrl: string;
  /** The hub's identifier (I…), from its start lines. */
  identifier: string;
  identityFile: string;
  process: LoggedProcess;
  /** The same hub (identity, ports, storage) started again, e.g. after a kill. */
  restart(): Promise<SecureHubProcess>;
}

/** A secure `tessera hub` (no --insecure) in a process of its own; its private key a secret in `evidence`. */
export async function startSecureHub(evidence: Evidence, options: SecureHubOptions): Promise<SecureHubProcess> {
  const port = options.port ?? (await freePort());
  const metricsPort = options.metricsPort ?? (await freePort());
  const identityFile = join(options.dir, 'hub-identity.json');
  const args = [
    TESSERA_BIN, 'hub',
    '--listen', `127.0.0.1:${port}`,
    '--metrics', `127.0.0.1:${metricsPort}`,
    '--storage', options.storage,
    '--influx-url', options.influx.url,
    '--identity', identityFile,
    ...(options.admins.length > 0 ? ['--admin', options.admins.join(',')] : []),
    '--log-level', 'info',
    ...(options.args ?? []),
  ];
  const { process, match } = await spawnLogged(evidence, options.label ?? 'the hub', args, {
    env: { ...options.env, INFLUX_TOKEN: options.influx.token },
    ready: /identity: (I[0-9a-f]{64})[\s\S]*listening on|listening on[\s\S]*identity: (I[0-9a-f]{64})/,
  });
  evidence.identityFile('the hub', identityFile);
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    identifier: (match[1] ?? match[2])!,
    identityFile,
    process,
    restart: () => startSecureHub(evidence, { ...options, port, metricsPort }),
  };
}
