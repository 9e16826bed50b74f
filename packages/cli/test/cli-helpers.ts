import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromUtf8, Node, route, silentLogger } from '@tessera/core';
import { HubSession } from '@tessera/lease-client';
import { loadIdentity } from '@tessera/secure-channel';
import { InfluxdMissingError, type RunningInfluxd, startInfluxd } from '@tessera/testing';
import type { LeaseResponse } from '@tessera/token-lease';
import { WebSocketTransport } from '@tessera/transport-ws';

export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/**
 * The state directory of every child these tests start: a hub started without
 * --identity makes its identity there, never in the home directory.
 */
const stateDir = mkdtempSync(join(tmpdir(), 'tessera-state-'));
process.once('exit', () => rmSync(stateDir, { recursive: true, force: true }));

/** The environment of a child: this process's, TESSERA_STATE_DIR a scratch directory, then `env`. */
export function childEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, TESSERA_STATE_DIR: stateDir, ...env };
}

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tessera <args>` to completion. */
export async function tessera(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  const child = spawn(process.execPath, [bin, ...args], { env: childEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code: code ?? -1, stdout, stderr };
}

export interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then resolves with the exit code (null when a signal ended it); at once if it has ended. */
  stop(): Promise<number | null>;
}

/** Starts a long-running `tessera <args>` and resolves once its stdout contains `ready`. */
export async function start(args: string[], ready: string | RegExp, env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [bin, ...args], { env: childEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`tessera ${args.join(' ')} exited with ${code}: ${stderr}`));
    child.once('exit', onExit);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (typeof ready === 'string' ? stdout.includes(ready) : ready.test(stdout)) {
        child.off('exit', onExit);
        resolve();
      }
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      // ended already (by a signal too: then exitCode stays null, and 'exit' will not come again)
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

/**
 * Resolves with the first match of `pattern` in what `proc` printed on stdout
 * from offset `from` on, checking whenever it prints; rejects if it exits first.
 */
export function waitForOutput(proc: Running, pattern: RegExp, what: string, from = 0): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(proc.stdout().slice(from));
      if (m !== null) {
        proc.child.stdout.off('data', check);
        proc.child.off('exit', gone);
        resolve(m);
      }
    };
    const gone = () => reject(new Error(`process exited before ${what}: ${proc.stdout()}\n${proc.stderr()}`));
    proc.child.stdout.on('data', check);
    proc.child.once('exit', gone);
    check();
  });
}

/**
 * An influxd 1.x of the test's own with `databases` created. Without influxd installed the
 * test is skipped, except under CI=true, where it fails.
 */
export async function ownInfluxd(ctx: Mocha.Context, databases: string[]): Promise<RunningInfluxd> {
  let influxd: RunningInfluxd;
  try {
    influxd = await startInfluxd();
  } catch (err) {
    if (err instanceof InfluxdMissingError && process.env['CI'] !== 'true') ctx.skip();
    throw err;
  }
  const auth = `Basic ${Buffer.from(`${influxd.adminUser}:${influxd.adminPassword}`).toString('base64')}`;
  for (const db of databases) {
    await fetch(`${influxd.url}/query`, { method: 'POST', headers: { authorization: auth }, body: new URLSearchParams({ q: `CREATE DATABASE ${db}` }) });
  }
  return influxd;
}

/** An identity made by `tessera identity create --out <dir>/<name>.json`: its file and identifier. */
export async function createIdentity(dir: string, name: string): Promise<{ file: string; identifier: string }> {
  const file = join(dir, `${name}.json`);
  const made = await tessera(['identity', 'create', '--out', file]);
  if (made.code !== 0) throw new Error(`tessera identity create failed (${made.code}): ${made.stderr}`);
  return { file, identifier: made.stdout.trim() };
}

/** A bootstrap token from `tessera enroll create-token` run as `admin` (the token was on stdout, its reference on stderr). */
export async function createToken(hubUrl: string, admin: string, attributes: Record<string, string>, more: string[] = []): Promise<{ token: string; reference: string }> {
  const attrs = Object.entries(attributes).flatMap(([k, v]) => ['--attr', `${k}=${v}`]);
  const made = await tessera(['enroll', 'create-token', '--hub', hubUrl, '--identity', admin, ...attrs, ...more]);
  if (made.code !== 0) throw new Error(`tessera enroll create-token failed (${made.code}): ${made.stderr}`);
  const reference = /token reference (\S+),/.exec(made.stderr)?.[1];
  if (reference === undefined) throw new Error(`no token reference in: ${made.stderr}`);
  return { token: made.stdout.trim(), reference };
}

/** A member's raw lease requests: JSON through its own secure channel to a hub's token_lease worker, the answers unchecked. */
export interface MemberCaller {
  call(request: object): Promise<LeaseResponse>;
  close(): Promise<void>;
}

/**
 * A device in this process with the identity in `identityFile`: it opens a
 * secure channel to the hub on `port` (pinned to `hubIdentifier`), enrolling
 * once with `enrollToken` when given, and sends each request as it is.
 */
export async function memberCaller(port: number, identityFile: string, options: { enrollToken?: string; hubIdentifier?: string } = {}): Promise<MemberCaller> {
  const node = new Node({ name: 'member', logger: silentLogger });
  new WebSocketTransport(node);
  const session = new HubSession({
    node,
    hub: route(`3#127.0.0.1:${port}`, 'token_lease'),
    identity: await loadIdentity(identityFile),
    enrollToken: options.enrollToken,
    hubIdentifier: options.hubIdentifier,
    requestTimeout: 10_000,
    logger: silentLogger,
  });
  return {
    async call(request) {
      const reply = await session.request('token_lease', JSON.stringify(request));
      return JSON.parse(fromUtf8(reply.payload)) as LeaseResponse;
    },
    async close() {
      session.close();
      await node.stop();
    },
  };
}
