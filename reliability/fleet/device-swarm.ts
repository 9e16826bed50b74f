// A device swarm: a child process a scenario starts (`node --import tsx device-swarm.ts`),
// running FLEET_CONFIG's devices, each with its own identity (kept in `dir`: a swarm started
// again is the same devices, members already), node, WebSocket connection and secure channel.
// It connects every device (enrolling with FLEET_ENROLL_TOKEN those the hub does not know),
// says `ready`, works from `go` to `stop` (or its maxMs; `pause` halts the work until the
// next `go`), then says `done` and exits.
// Protocol: reliability/fleet/swarm-protocol.ts. Lease values go to secrets/swarm-<n>.txt
// (mode 0600) for the scenario's secrets scan, never to stdout or stderr.
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { consoleLogger } from '@tessera/core';
import { loadOrCreateIdentity } from '@tessera/secure-channel';
import pLimit from 'p-limit';
import { type DeviceReporter, FleetDevice } from './device.js';
import { type Sample, type SwarmCommand, SwarmCommandSchema, SwarmConfigSchema, type SwarmLine } from './swarm-protocol.js';

/** Attempts a device gets to open its channel before the swarm counts it as failed. */
const CONNECT_ATTEMPTS = 20;
/** Attempts each device gets to revoke its lease when told to stop with `revoke`. */
const REVOKE_ATTEMPTS = 5;

const config = SwarmConfigSchema.parse(JSON.parse(process.env['FLEET_CONFIG'] ?? 'null'));
const enrollToken = process.env['FLEET_ENROLL_TOKEN'] === '' ? undefined : process.env['FLEET_ENROLL_TOKEN'];
const started = Date.now();
type StopCommand = Extract<SwarmCommand, { cmd: 'stop' }>;
const say = (line: SwarmLine): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

say({ type: 'started', swarm: config.swarm });
mkdirSync(join(config.dir, 'identities'), { recursive: true, mode: 0o700 });
mkdirSync(join(config.dir, 'secrets'), { recursive: true, mode: 0o700 });
const secrets = createWriteStream(join(config.dir, 'secrets', `swarm-${config.swarm}.txt`), { flags: 'a', mode: 0o600 });

let samples: Sample[] = [];
const reporter: DeviceReporter = {
  sample: (s) => void samples.push(s),
  event: (kind, device, fields = {}) => say({ type: 'event', swarm: config.swarm, kind, device, t: Date.now(), ...fields }),
  secret: (value) => void secrets.write(`${value}\n`),
};
const flush = (): void => {
  if (samples.length === 0) return;
  say({ type: 'samples', swarm: config.swarm, s: samples });
  samples = [];
};
const flusher = setInterval(flush, config.flushMs);

// commands: `go` starts the devices' work, `pause` halts it (each device after the request it
// is making), `stop` ends it; the swarm also stops by itself at maxMs
// the devices that connected, once they all tried
let ready: FleetDevice[] | undefined = undefined;
let phase: AbortController | undefined;
let goWhenReady = false;
const runs: Array<Promise<void>> = [];
const connecting = new AbortController();
let stopWith: StopCommand | undefined;
let stopped: () => void = () => undefined;
const ended = new Promise<void>((resolve) => (stopped = resolve));
const start = (): void => {
  if (stopWith !== undefined || phase !== undefined) return;
  if (ready === undefined) {
    goWhenReady = true;
    return;
  }
  phase = new AbortController();
  const signal = phase.signal;
  for (const d of ready) runs.push(d.run(config.behaviour, signal));
};
const pause = (): void => {
  goWhenReady = false;
  phase?.abort();
  phase = undefined;
};
const stop = (command: StopCommand): void => {
  stopWith ??= command;
  pause();
  connecting.abort();
  stopped();
};
const deadline = setTimeout(() => stop({ cmd: 'stop', revoke: false }), config.maxMs - (Date.now() - started));
const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const command = SwarmCommandSchema.safeParse(safeJson(line));
  if (!command.success) process.stderr.write('device-swarm: unknown command ignored\n');
  else if (command.data.cmd === 'go') start();
  else if (command.data.cmd === 'pause') pause();
  else stop(command.data);
});
// the scenario is gone: stop now rather than at maxMs
commands.on('close', () => stop({ cmd: 'stop', revoke: false }));

const logger = consoleLogger('warn', { swarm: config.swarm });
const devices: FleetDevice[] = [];
for (let i = 0; i < config.devices; i++) {
  const number = config.first + i;
  const identity = await loadOrCreateIdentity(join(config.dir, 'identities', `d${number}.json`));
  devices.push(new FleetDevice(number, identity, config, enrollToken, reporter, logger.child({ device: `d${number}` })));
}
const limit = pLimit(config.connectConcurrency);
const connected = await Promise.all(devices.map((d) => limit(() => d.connect(CONNECT_ATTEMPTS, connecting.signal))));
ready = devices.filter((_, i) => connected[i]);
say({ type: 'ready', swarm: config.swarm, devices: ready.length, failed: devices.length - ready.length, ms: Date.now() - started });
if (goWhenReady) start();

await ended;
await Promise.all(runs);
if (stopWith?.revoke === true) await Promise.all(ready.map((d) => d.revokeHeld(REVOKE_ATTEMPTS)));
flush();
say({ type: 'done', swarm: config.swarm, held: ready.filter((d) => d.holding).length });
clearInterval(flusher);
clearTimeout(deadline);
await Promise.all(devices.map((d) => d.close()));
await new Promise<void>((resolve) => secrets.end(resolve));
process.exit(0);

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
