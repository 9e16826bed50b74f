import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { InfluxdMissingError, type RunningInfluxd, startInfluxd } from '@tessera/testing';

export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tessera <args>` to completion. */
export async function tessera(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
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
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a long-running `tessera <args>` and resolves once its stdout contains `ready`. */
export async function start(args: string[], ready: string | RegExp, env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
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
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
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
