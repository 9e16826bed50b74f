// A fleet: devices spread over several swarm processes (reliability/fleet/device-swarm.ts),
// enrolled with one bootstrap token the admin makes, their reports gathered in a FleetRecord.
// Its identities live in `dir`: a fleet started again on the same dir is the same devices.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Evidence } from '../evidence.js';
import { type LoggedProcess, spawnLogged } from '../processes.js';
import type { FleetAdmin } from './admin.js';
import type { FleetRecord } from './fleet-record.js';
import { type Behaviour, type SwarmCommand, type SwarmConfig, type SwarmLine, SwarmLineSchema } from './swarm-protocol.js';

const SWARM_SCRIPT = fileURLToPath(new URL('device-swarm.ts', import.meta.url));
const TSX = fileURLToPath(import.meta.resolve('tsx'));
/** How long every device of a swarm may take to connect (and enroll). */
const READY_TIMEOUT_MS = 120_000;
/** How long a swarm may take to stop (revoking its leases if told) after `stop`. */
const DONE_TIMEOUT_MS = 60_000;

export interface FleetOptions {
  /** A name for its processes' output, and its directory under `dir`. */
  name: string;
  /** Where fleets keep their devices' identities and secrets files. */
  dir: string;
  hub: { url: string; identifier: string };
  influx: { url: string };
  admin: FleetAdmin;
  devices: number;
  /** The first device's number (default 0): fleets of one scenario number their devices apart. */
  first?: number;
  /** Swarm processes the devices are spread over. */
  processes: number;
  behaviour: Behaviour;
  /** The devices' request timeout, ms (default 5,000). */
  requestTimeout?: number;
  /** A hard end of every swarm, ms after it starts. */
  maxMs: number;
  /** Attributes the devices enroll with (default role=device). */
  attributes?: Record<string, string>;
  /**
   * The swarms' scheduling priority (nice, 0–19; default 0): a client whose own CPU use must not
   * stand for the hub's on a shared machine (a flooding member runs on a machine of its own).
   */
  nice?: number;
}

interface Swarm {
  process: LoggedProcess;
  ready: Promise<number>;
  done: Promise<number>;
}

export class Fleet {
  private constructor(
    readonly options: FleetOptions,
    private readonly swarms: Swarm[],
    /** Devices connected and holding a credential. */
    readonly ready: number,
  ) {}

  /** Starts the swarms and resolves once every device is connected (enrolling those that are not members). */
  static async start(evidence: Evidence, record: FleetRecord, options: FleetOptions): Promise<Fleet> {
    const token = await options.admin.createToken(options.attributes ?? { role: 'device' }, options.devices);
    const dir = join(options.dir, options.name);
    const per = Math.ceil(options.devices / options.processes);
    const base = options.first ?? 0;
    const configs: SwarmConfig[] = [];
    for (let i = 0, first = 0; first < options.devices; i++, first += per) {
      configs.push({
        hub: options.hub.url,
        hubIdentifier: options.hub.identifier,
        influx: { url: options.influx.url, org: 'tessera', bucket: 'tessera' },
        dir,
        swarm: i,
        first: base + first,
        devices: Math.min(per, options.devices - first),
        behaviour: options.behaviour,
        requestTimeout: options.requestTimeout ?? 5_000,
        connectConcurrency: 16,
        maxMs: options.maxMs,
        flushMs: 500,
      });
    }
    const swarms = await Promise.all(configs.map((config) => startSwarm(evidence, record, `${options.name} swarm ${config.swarm}`, config, token)));
    if (options.nice !== undefined) for (const s of swarms) setPriority(s.process.pid, options.nice);
    const ready = await Promise.all(swarms.map((s) => withTimeout(s.ready, READY_TIMEOUT_MS, `${options.name}: devices did not connect`)));
    return new Fleet(options, swarms, ready.reduce((a, b) => a + b, 0));
  }

  /** Every device starts (or resumes) its work. */
  go(): void {
    this.tell({ cmd: 'go' });
  }

  /** Every device halts its work after the request it is making, until the next `go`. */
  pause(): void {
    this.tell({ cmd: 'pause' });
  }

  /** Every device ends its work (revoking the lease it holds if `revoke`); resolves with how many devices still hold one. */
  async stop(revoke: boolean): Promise<number> {
    this.tell({ cmd: 'stop', revoke });
    const held = await Promise.all(this.swarms.map((s) => withTimeout(s.done, DONE_TIMEOUT_MS, `${this.options.name}: a swarm did not stop`)));
    await Promise.all(this.swarms.map((s) => s.process.ended));
    return held.reduce((a, b) => a + b, 0);
  }

  /** Resident memory of the swarm processes together, bytes. */
  rssBytes(): number {
    return this.swarms.reduce((sum, s) => sum + s.process.rssBytes(), 0);
  }

  /** Registers in `evidence` the devices' private keys and every lease value they learned. */
  registerSecrets(evidence: Evidence): void {
    registerFleetSecrets(evidence, join(this.options.dir, this.options.name));
  }

  private tell(command: SwarmCommand): void {
    for (const s of this.swarms) s.process.write(`${JSON.stringify(command)}\n`);
  }
}

/** The private keys in `dir/identities` and the lease values in `dir/secrets` (what swarms wrote there) as secrets. */
export function registerFleetSecrets(evidence: Evidence, dir: string): void {
  const identities = join(dir, 'identities');
  if (existsSync(identities)) for (const file of readdirSync(identities)) evidence.identityFile(`device ${file.replace(/\.json$/, '')}`, join(identities, file));
  const secrets = join(dir, 'secrets');
  if (!existsSync(secrets)) return;
  for (const file of readdirSync(secrets)) {
    for (const value of readFileSync(join(secrets, file), 'utf8').split('\n')) if (value !== '') evidence.secret('a lease value', value);
  }
}

async function startSwarm(evidence: Evidence, record: FleetRecord, label: string, config: SwarmConfig, enrollToken: string): Promise<Swarm> {
  let ready: (devices: number) => void = () => undefined;
  let done: (held: number) => void = () => undefined;
  const readyP = new Promise<number>((resolve) => (ready = resolve));
  const doneP = new Promise<number>((resolve) => (done = resolve));
  const onLine = (text: string): void => {
    const line = SwarmLineSchema.safeParse(safeJson(text));
    if (!line.success) return;
    const l: SwarmLine = line.data;
    if (l.type === 'ready') ready(l.devices);
    else if (l.type === 'done') done(l.held);
    else if (l.type !== 'started') record.add(l);
  };
  const { process } = await spawnLogged(evidence, label, ['--import', TSX, SWARM_SCRIPT], {
    env: { FLEET_CONFIG: JSON.stringify(config), FLEET_ENROLL_TOKEN: enrollToken },
    // `started` at once; `ready` once its devices are connected, with a longer timeout of its own
    ready: /"type":"started"/,
    stdin: true,
    onLine,
  });
  // `close`, not `exit`: the last lines it printed are read by then
  const ended = new Promise<never>((_, reject) =>
    process.child.once('close', (code, signal) => reject(new Error(`${label} ended (${code ?? signal}) early:\n${process.tail()}`))),
  );
  ended.catch(() => undefined);
  return { process, ready: Promise.race([readyP, ended]), done: Promise.race([doneP, ended]) };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
