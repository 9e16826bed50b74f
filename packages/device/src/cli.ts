import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { formatRoute, type Logger } from '@tessera/core';
import { identifierOf, isIdentifier, loadOrCreateIdentity } from '@tessera/secure-channel';
import { Device } from './device.js';
import { DeviceOptionsError } from './errors.js';
import { type DeviceOptions, resolveDeviceOptions, type ResolvedDeviceOptions } from './options.js';

/** Where the command line writes, reads its environment, and (for tests and embedding) how it is told to stop. */
export interface DeviceCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Stops the device like SIGINT does; without it, SIGINT and SIGTERM do. */
  signal?: AbortSignal;
  /** The command's name in usage and messages (default `tessera-device`; `tessera device` passes its own). */
  name?: string;
}

const usage = (name: string) => `Usage: ${name} --influx-url URL [options]

A device node: gets an InfluxDB token leased from a Tessera hub, writes one
point per interval (device_metrics,device=<id> value=<n>,seq=<n>i), and when
InfluxDB answers 401/403 reports the lease, swaps in a new token and replays
the points that failed. Prints one line per event; never prints a token.

Options:
  --hub URL             the hub: ws://host:port, host:port or a route [TESSERA_HUB]
                        (default ws://127.0.0.1:4000)
  --identity FILE       the device's identity (Ed25519 key, created 0600 on first start);
                        lease requests go through a secure channel [TESSERA_IDENTITY]
  --enroll-token TOKEN  bootstrap token the first start redeems to join the hub; later
                        starts need only the identity [TESSERA_ENROLL_TOKEN: prefer it,
                        a flag shows in the process list]
  --hub-identity ID     trust only the hub with this identifier (I…) [TESSERA_HUB_IDENTITY]
                        (default: any hub that answers, with a warning)
  --insecure            plaintext to an insecure (development) hub, no identity
  --device-id ID        tags every point [TESSERA_DEVICE_ID] (default: the host name)
  --interval MS         milliseconds between points (default 1000)
  --ttl MS              lease TTL to ask for (default: the hub's)
  --influx-url URL      InfluxDB the points go to (required) [INFLUX_URL]
  --influx-org ORG      organization [INFLUX_ORG] (default tessera)
  --influx-bucket B     bucket [INFLUX_BUCKET] (default tessera)
  --measurement NAME    measurement (default device_metrics)
  --cache FILE          keep the lease in this encrypted file across restarts
                        (and do not revoke it on stop)
  --cache-key-file FILE its key, made if missing (default FILE.key)
  --sink FILE           keep the current token in FILE (mode 0600) for other programs
  --log-level LEVEL     debug | info | warn | error | silent, JSON lines on stderr
                        (default error: the printed events tell the rest)
  -h, --help            show this help

One of --identity and --insecure is required: the device does not pick a
place for its private key, nor fall back to plaintext, on its own.
No InfluxDB token is needed: the token comes from the lease. Stops cleanly
on SIGINT or SIGTERM, revoking its lease (keeping it with --cache).
`;

const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Runs the `tessera-device` command: starts a device and prints its events
 * until SIGINT/SIGTERM (or `io.signal`). Resolves to the exit code.
 */
export async function runDeviceCli(argv: readonly string[], io: Partial<DeviceCliIo> = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const name = io.name ?? 'tessera-device';
  const say = (line: string) => stdout.write(line + '\n');

  let parsed: CommandLine;
  try {
    const read = parseCommandLine(argv, env, stderr);
    if (read === 'help') {
      stdout.write(usage(name));
      return EXIT.ok;
    }
    parsed = read;
  } catch (err) {
    stderr.write(`${name}: ${(err as Error).message}\n\n${usage(name)}`);
    return EXIT.usage;
  }
  const { identityFile } = parsed;
  if (identityFile !== undefined) {
    try {
      // everything else first: a mistyped command creates no key
      const { enrollToken: _token, hubIdentifier: _hub, ...rest } = parsed.options;
      resolveDeviceOptions(rest);
    } catch (err) {
      stderr.write(`${name}: ${(err as Error).message}\n\n${usage(name)}`);
      return EXIT.usage;
    }
    try {
      parsed.options.identity = await loadOrCreateIdentity(identityFile);
    } catch (err) {
      // an identity file others may read, or one that is not an identity: the messages never show its content
      stderr.write(`${name}: identity ${identityFile}: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
  }
  let options: ResolvedDeviceOptions;
  try {
    options = resolveDeviceOptions(parsed.options);
  } catch (err) {
    stderr.write(`${name}: ${(err as Error).message}\n\n${usage(name)}`);
    return EXIT.usage;
  }
  if (identityFile === undefined) {
    stderr.write(`${name}: --insecure: lease requests go in plaintext and the hub knows this device only by its connection (development only)\n`);
  }

  let device: Device;
  try {
    device = new Device(options);
  } catch (err) {
    stderr.write(`${name}: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const stop = stopRequest(io.signal);
  say(`device ${device.deviceId}: hub ${formatRoute(options.hub)}, influx ${options.influxUrl} org=${options.org} bucket=${options.bucket}, every ${options.interval} ms`);
  if (options.identity !== undefined) {
    const pin = options.hubIdentifier === undefined ? 'hub identity not pinned' : `hub identity pinned to ${options.hubIdentifier}`;
    say(`identity ${identifierOf(options.identity.publicKey)} (${identityFile}), secure channel, ${pin}${options.enrollToken === undefined ? '' : ', enroll token given'}`);
  }
  printEvents(device, say);
  const started = device.start().then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  const first = await Promise.race([started, stop.requested]);
  if (first instanceof Error) {
    stop.dispose();
    stderr.write(`${name}: could not start: ${first.message}\n`);
    return EXIT.failure;
  }
  const signal = typeof first === 'string' ? first : await stop.requested;
  stop.dispose();
  say(`${signal}: stopping`);
  await device.stop();
  await started;
  const s = device.stats();
  say(`stopped: written=${s.pointsWritten} failed=${s.pointsFailed} lost=${s.pointsLost} auth-failures=${s.authFailures} leases=${s.leasesUsed}`);
  return EXIT.ok;
}

function printEvents(device: Device, say: (line: string) => void): void {
  device.on('channel', ({ hub }) => say(`secure channel to hub ${hub} open`));
  device.on('enrolled', ({ identifier, attributes }) => say(`enrolled as ${identifier} with ${Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join(' ') || 'no attributes'}`));
  device.on('lease', ({ lease, reason }) => say(reason === 'renewed' ? `lease ${lease.id} renewed, expires ${lease.expires}` : `lease ${lease.id} acquired (${reason}), expires ${lease.expires}`));
  device.on('point-written', (p) => say(`point seq=${p.seq} value=${p.value} lease=${p.leaseId}${p.replayed ? ' (replayed)' : ''}`));
  device.on('auth-failure', (e) => say(`auth failure: InfluxDB answered ${e.status} to lease ${e.leaseId}; reporting it, ${e.points} point(s) to replay`));
  device.on('token-swapped', (e) => say(`token swapped: lease ${e.from} -> lease ${e.to}`));
  device.on('write-failed', (e) => say(`write failed (${e.status ?? 'network'}): ${e.message}; ${e.points} point(s), retry in ${e.retryIn} ms`));
  device.on('point-lost', (e) => say(`point lost seq=${e.seq}: ${e.reason}`));
  device.on('lease-failed', (e) => say(`lease ${e.operation} failed: ${e.message}`));
}

/** The options from the command line and environment, and the identity file to load (none: --insecure). */
interface CommandLine {
  options: DeviceOptions;
  identityFile: string | undefined;
}

function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv, stderr: DeviceCliIo['stderr']): CommandLine | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      hub: { type: 'string' },
      'device-id': { type: 'string' },
      interval: { type: 'string' },
      ttl: { type: 'string' },
      'influx-url': { type: 'string' },
      'influx-org': { type: 'string' },
      'influx-bucket': { type: 'string' },
      measurement: { type: 'string' },
      cache: { type: 'string' },
      'cache-key-file': { type: 'string' },
      sink: { type: 'string' },
      identity: { type: 'string' },
      'enroll-token': { type: 'string' },
      'hub-identity': { type: 'string' },
      insecure: { type: 'boolean' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const fromEnv = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const influxUrl = values['influx-url'] ?? fromEnv('INFLUX_URL');
  if (influxUrl === undefined) throw new DeviceOptionsError('--influx-url (or INFLUX_URL) is required: the InfluxDB the points go to');
  const level = values['log-level'] ?? 'error';
  if (!LOG_LEVELS.includes(level as LogLevel)) throw new DeviceOptionsError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(level)}`);
  if (values['cache-key-file'] !== undefined && values.cache === undefined) throw new DeviceOptionsError('--cache-key-file needs --cache');
  const identityFile = values.identity ?? fromEnv('TESSERA_IDENTITY');
  const enrollToken = values['enroll-token'] ?? fromEnv('TESSERA_ENROLL_TOKEN');
  const hubIdentifier = values['hub-identity'] ?? fromEnv('TESSERA_HUB_IDENTITY');
  if (values.insecure !== true && hubIdentifier !== undefined && !isIdentifier(hubIdentifier)) {
    throw new DeviceOptionsError('--hub-identity (or TESSERA_HUB_IDENTITY) must be an identifier: I and 64 lowercase hex digits (tessera identity show)');
  }
  if (values.insecure === true) {
    // (their env variables may be set for other commands: ignored here)
    if (values.identity !== undefined || values['enroll-token'] !== undefined || values['hub-identity'] !== undefined) {
      throw new DeviceOptionsError('--insecure is plaintext: it takes no --identity, --enroll-token or --hub-identity');
    }
  } else if (identityFile === undefined) {
    throw new DeviceOptionsError('--identity FILE (or TESSERA_IDENTITY) is required for a secure hub, where the device is known by its identity; --insecure for a development hub');
  }

  const options: DeviceOptions = {
    hub: values.hub ?? fromEnv('TESSERA_HUB') ?? 'ws://127.0.0.1:4000',
    deviceId: values['device-id'] ?? fromEnv('TESSERA_DEVICE_ID') ?? hostname(),
    influxUrl,
    org: values['influx-org'] ?? fromEnv('INFLUX_ORG') ?? 'tessera',
    bucket: values['influx-bucket'] ?? fromEnv('INFLUX_BUCKET') ?? 'tessera',
    logger: jsonLogger(level as LogLevel, stderr, { name: 'tessera-device' }),
  };
  if (values.interval !== undefined) options.interval = milliseconds('--interval', values.interval);
  if (values.ttl !== undefined) options.ttl = milliseconds('--ttl', values.ttl);
  if (values.measurement !== undefined) options.measurement = values.measurement;
  if (values.sink !== undefined) options.sink = values.sink;
  if (values.cache !== undefined) options.cache = { path: values.cache, keyFile: values['cache-key-file'] ?? `${values.cache}.key` };
  if (values.insecure === true) return { options, identityFile: undefined };
  if (enrollToken !== undefined) options.enrollToken = enrollToken;
  if (hubIdentifier !== undefined) options.hubIdentifier = hubIdentifier;
  return { options, identityFile };
}

function milliseconds(flag: string, text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) === 0) throw new DeviceOptionsError(`${flag} must be a positive whole number of milliseconds, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** Resolves with the signal's name on SIGINT/SIGTERM, or 'abort' when `signal` aborts. */
function stopRequest(signal: AbortSignal | undefined): { requested: Promise<string>; dispose(): void } {
  let dispose = () => {};
  const requested = new Promise<string>((resolve) => {
    if (signal !== undefined) {
      if (signal.aborted) return resolve('abort');
      const onAbort = () => resolve('abort');
      signal.addEventListener('abort', onAbort, { once: true });
      dispose = () => signal.removeEventListener('abort', onAbort);
      return;
    }
    const onSignal = (name: NodeJS.Signals) => resolve(name);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    dispose = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  });
  return { requested, dispose };
}

/** One JSON line per entry at or above `level`, written to `out` (the command's stderr). */
function jsonLogger(level: LogLevel, out: DeviceCliIo['stderr'], bindings: object): Logger {
  const rank = (l: LogLevel) => LOG_LEVELS.indexOf(l);
  const at = (name: Exclude<LogLevel, 'silent'>) => (fields: object, msg: string) => {
    if (rank(name) >= rank(level)) out.write(JSON.stringify({ level: name, time: new Date().toISOString(), ...bindings, ...fields, msg }) + '\n');
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => jsonLogger(level, out, { ...bindings, ...more }) };
}
