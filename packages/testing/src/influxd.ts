import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { defineError } from '@tessera/core';
import { freePort } from './free-port.js';
import { killOnExit, removeScratchDir, scratchDir } from './leftovers.js';

/** influxd found one of its ports taken: start again on others. */
const PortTakenError = defineError('PortTakenError', 'PORT_TAKEN');

/** A running influxd (InfluxDB 1.x) with authentication on and one admin user. */
export interface RunningInfluxd {
  /** `http://127.0.0.1:<port>` */
  url: string;
  adminUser: string;
  adminPassword: string;
  /** The temporary directory holding its config and data. */
  dir: string;
  /** Kills influxd and removes its directory. */
  stop(): Promise<void>;
}

export interface StartInfluxdOptions {
  /** Path of the influxd binary; default: INFLUXD_BIN, /usr/bin/influxd, then PATH. */
  binary?: string;
  /** How long to wait for /ping, in ms (default 20000). */
  startTimeout?: number;
}

/** Thrown when no influxd binary can be found (tests decide whether that skips or fails). */
export const InfluxdMissingError = defineError('InfluxdMissingError', 'INFLUXD_MISSING');
export type InfluxdMissingError = InstanceType<typeof InfluxdMissingError>;

/** Where influxd is, or undefined. */
export function findInfluxd(): string | undefined {
  const candidates = [process.env.INFLUXD_BIN, '/usr/bin/influxd', '/usr/local/bin/influxd'];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir !== '') candidates.push(join(dir, 'influxd'));
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
}

/**
 * Starts a real influxd 1.x in a temporary directory on free loopback ports, with
 * `auth-enabled = true`, reporting off, and an admin user created.
 */
export async function startInfluxd(options: StartInfluxdOptions = {}): Promise<RunningInfluxd> {
  const binary = options.binary ?? findInfluxd();
  if (binary === undefined) {
    throw new InfluxdMissingError('influxd not found (install InfluxDB 1.x: `apt-get install -y influxdb`, or set INFLUXD_BIN)');
  }
  // A port found free can be taken by someone else before influxd binds it: try again then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, options.startTimeout ?? 20_000);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= 3) throw err;
    }
  }
}

async function startOnce(binary: string, startTimeout: number): Promise<RunningInfluxd> {
  const dir = scratchDir('tessera-influxd-');
  const httpPort = await freePort();
  let rpcPort = await freePort();
  while (rpcPort === httpPort) rpcPort = await freePort();
  await writeFile(join(dir, 'influxdb.conf'), config(dir, httpPort, rpcPort));

  const child = spawn(binary, ['run', '-config', join(dir, 'influxdb.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    await kill(child, exited);
    removeScratchDir(dir);
  };

  const url = `http://127.0.0.1:${httpPort}`;
  const adminUser = 'admin';
  const adminPassword = randomBytes(18).toString('base64url');
  try {
    await waitForPing(url, child, startTimeout, () => stderr);
    // With auth on and no user yet, influxd lets exactly this statement through.
    const body = new URLSearchParams({ q: `CREATE USER "${adminUser}" WITH PASSWORD '${adminPassword}' WITH ALL PRIVILEGES` });
    const response = await fetch(`${url}/query`, { method: 'POST', body });
    const text = await response.text();
    if (!response.ok || text.includes('"error"')) throw new Error(`influxd: creating the admin user failed: ${response.status} ${text}`);
  } catch (err) {
    await stop();
    if (/address already in use/i.test(stderr)) throw new PortTakenError(stderr);
    throw err;
  }
  return { url, adminUser, adminPassword, dir, stop };
}

function config(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = true
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`;
}

async function waitForPing(url: string, child: ChildProcess, timeout: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`influxd exited (${child.exitCode ?? child.signalCode}) before answering /ping: ${stderr().trim()}`);
    }
    try {
      const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 204) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`influxd did not answer /ping within ${timeout} ms: ${stderr().trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
