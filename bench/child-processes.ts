// Processes a benchmark starts for the parts that must not share its event loop:
// influxdb-local, and `tessera hub` with its CPU time readable through bench/cpu-probe.mjs.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@tessera/testing';

const root = new URL('../', import.meta.url);

export interface ChildServer {
  url: string;
  pid: number;
  /** CPU seconds (user + system) the child has used so far, read with process.cpuUsage() inside it. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts `node --import cpu-probe.mjs <script> <args>`; resolves once its stdout matches `ready`. */
async function startChild(script: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const probe = fileURLToPath(new URL('bench/cpu-probe.mjs', root));
  const child = spawn(process.execPath, ['--import', probe, fileURLToPath(new URL(script, root)), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = ready.exec(out);
      if (m !== null) {
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        resolve(m);
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`${script} exited with ${String(code)}: ${out.slice(-2000)}`));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', onExit);
  });
  // keep draining its output, so a chatty child never blocks on a full pipe
  child.stdout!.resume();
  child.stderr!.resume();
  return { child, match };
}

function handle(child: ChildProcess, url: string): ChildServer {
  return {
    url,
    pid: child.pid!,
    cpuSeconds: () =>
      new Promise((resolve, reject) => {
        child.once('message', (m: { cpu?: NodeJS.CpuUsage }) => (m.cpu === undefined ? reject(new Error('no cpu reading')) : resolve((m.cpu.user + m.cpu.system) / 1e6)));
        child.send('cpu');
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** influxdb-local (its command, from dist) in a process of its own, on a free port. */
export async function influxdbLocalProcess(options: { token: string; org: string; bucket: string }): Promise<ChildServer> {
  const { child, match } = await startChild(
    'packages/influxdb-local/dist/bin.js',
    ['--port', '0', '--org', options.org, '--bucket', options.bucket],
    { INFLUX_TOKEN: options.token },
    /listening on (http:\/\/\S+)/,
  );
  return handle(child, match[1]!);
}

/**
 * `tessera hub` (memory storage unless told, the given influxdb v2, --insecure, deployment `bench` unless told) in a
 * process of its own; url is its ws:// address. Hubs on different storages need different deployments, or each
 * sweeps the other's tokens as orphans.
 */
export async function hubProcess(influxUrl: string, token: string, storage = 'memory', deployment = 'bench'): Promise<ChildServer & { port: number }> {
  const port = await freePort();
  const { child } = await startChild(
    'packages/cli/dist/bin.js',
    ['hub', '--listen', `127.0.0.1:${port}`, '--storage', storage, '--influx-url', influxUrl, '--insecure', '--log-level', 'error', '--deployment', deployment],
    { INFLUX_TOKEN: token },
    /listening on/,
  );
  return { ...handle(child, `ws://127.0.0.1:${port}`), port };
}

/** `tessera node` (a secure-channel listener trusting everyone, and echo) in a process of its own; url is its ws:// address. */
export async function secureNodeProcess(): Promise<ChildServer & { port: number }> {
  const { child, match } = await startChild('packages/cli/dist/bin.js', ['node', '--listen', '127.0.0.1:0'], {}, /listening on ws:\/\/127\.0\.0\.1:(\d+)/);
  const port = Number(match[1]);
  return { ...handle(child, `ws://127.0.0.1:${port}`), port };
}
