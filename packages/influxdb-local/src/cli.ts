import { parseArgs } from 'node:util';
import { InfluxdbLocalOptionsError, type InfluxdbLocalOptions } from './options.js';
import { PersistFileError } from './persistence.js';
import { launchInfluxdbLocal, type Launched } from './server.js';

/** Where the command line writes, reads its environment, and (for tests and embedding) how it is told to stop. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Stops the server like SIGINT does. */
  signal?: AbortSignal;
}

const USAGE = `Usage: tessera-influxdb-local [options]

An InfluxDB-v2-API-compatible server for development, tests and demos.

Options:
  --port P        port to listen on (default 8086; 0 = any free port)
  --host H        address to listen on (default 127.0.0.1)
  --org O         organization made at start if missing (default tessera)
  --bucket B      bucket made at start if missing (default tessera)
  --token T       operator token (default: INFLUX_TOKEN, else the persisted one, else random)
  --persist FILE  keep state in FILE (JSON), loaded at start and written on change
  --access-log    print one JSON line per request answered on stdout:
                  {"method","path" (no query string),"status","ms"}; never a header or a token
  -h, --help      show this help

Stops cleanly on SIGINT or SIGTERM. Prefer INFLUX_TOKEN to --token: arguments show in ps.
`;

/**
 * Runs the `tessera-influxdb-local` command: starts the server, prints where it is,
 * and serves until SIGINT/SIGTERM (or `io.signal`). Resolves to the exit code.
 */
export async function runInfluxdbLocalCli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;

  let options: InfluxdbLocalOptions;
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        org: { type: 'string' },
        bucket: { type: 'string' },
        token: { type: 'string' },
        persist: { type: 'string' },
        'access-log': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      stdout.write(USAGE);
      return 0;
    }
    options = {};
    if (values.port !== undefined) {
      if (!/^\d{1,5}$/.test(values.port)) throw new Error(`--port must be a number from 0 to 65535, not ${JSON.stringify(values.port)}`);
      options.port = Number(values.port);
    }
    if (values.host !== undefined) options.host = values.host;
    if (values.org !== undefined) options.org = values.org;
    if (values.bucket !== undefined) options.bucket = values.bucket;
    if (values.token !== undefined) options.token = values.token;
    if (values.persist !== undefined) options.persistPath = values.persist;
    if (values['access-log'] === true) options.accessLog = (entry) => stdout.write(`${JSON.stringify(entry)}\n`);
  } catch (err) {
    stderr.write(`tessera-influxdb-local: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }

  let launched: Launched;
  try {
    launched = await launchInfluxdbLocal(options, env);
  } catch (err) {
    const known = err instanceof InfluxdbLocalOptionsError || err instanceof PersistFileError;
    const message = known || (err as NodeJS.ErrnoException).code !== undefined ? (err as Error).message : String(err);
    stderr.write(`tessera-influxdb-local: cannot start: ${message}\n`);
    return 1;
  }
  stdout.write(describe(launched, options.persistPath));

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (io.signal?.aborted === true) stop();
    else io.signal?.addEventListener('abort', stop, { once: true });
  });
  try {
    await launched.server.close();
  } catch (err) {
    stderr.write(`tessera-influxdb-local: stopped, but could not write the persist file: ${(err as Error).message}\n`);
    return 1;
  }
  stdout.write('tessera-influxdb-local: stopped\n');
  return 0;
}

/** What the command prints at start; the token only when it was made up here (the user has no other way to learn it). */
function describe({ server, tokenOrigin, restored }: Launched, persistPath: string | undefined): string {
  const token = {
    option: 'given with --token',
    env: 'from INFLUX_TOKEN',
    persisted: `the operator token saved in ${persistPath ?? 'the persist file'}`,
    generated: `${server.token}\n           (generated at start; set INFLUX_TOKEN or --token to choose one)`,
  }[tokenOrigin];
  return [
    `tessera-influxdb-local: InfluxDB v2 API listening on ${server.url}`,
    `  org:     ${server.org} (id ${server.orgID})`,
    `  bucket:  ${server.bucket} (id ${server.bucketID})`,
    `  token:   ${token}`,
    `  persist: ${persistPath === undefined ? 'off (state is lost on exit)' : `${persistPath}${restored ? ' (loaded)' : ' (new)'}`}`,
    `  read back: GET ${server.url}/api/v2/local/points?org=${encodeURIComponent(server.org)}&bucket=${encodeURIComponent(server.bucket)}`,
    '',
  ].join('\n');
}
