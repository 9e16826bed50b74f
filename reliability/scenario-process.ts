// The process one scenario runs in (reliability/runner.ts starts it, one per scenario, so
// one scenario's heap and leftovers cannot skew the next): `node --import tsx
// reliability/scenario-process.ts <scenario file> <full|ci>`. Prints each figure as one
// JSON line on stdout, then the scenario's two `secrets` figures: how many (output,
// secret) pairs meet in everything its processes and this one printed, and how many
// secrets were scanned. Exits 1 if the scenario threw (it could not measure).
import { pathToFileURL } from 'node:url';
import { Evidence } from './evidence.js';
import { type Emit, keeps, type ReliabilityFigure, type Size } from './figure.js';
import { stopAll } from './processes.js';
import type { Scenario } from './scenario.js';

/** The label under which this process's own output is scanned. */
const SELF = 'the scenario process';

const [file, sizeArg] = process.argv.slice(2);
if (file === undefined || (sizeArg !== 'full' && sizeArg !== 'ci')) {
  process.stderr.write('usage: scenario-process.ts <scenario file> <full|ci>\n');
  process.exit(2);
}
const size: Size = sizeArg;
const evidence = new Evidence();

// what this process prints is output of the suite too: scanned like its children's
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    evidence.output(SELF, typeof chunk === 'string' ? chunk : Buffer.from(chunk));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopAll().finally(() => process.exit(130)));
}
// should the runner be killed outright (its exit hook never runs), this process ends its own and itself
const runner = process.ppid;
setInterval(() => {
  if (process.ppid !== runner) void stopAll().finally(() => process.exit(130));
}, 1_000).unref();

function print(figure: ReliabilityFigure): void {
  process.stdout.write(JSON.stringify(figure) + '\n');
}

async function main(): Promise<number> {
  const module = (await import(pathToFileURL(file!).href)) as { default?: Scenario };
  const scenario = module.default;
  if (scenario === undefined || typeof scenario.run !== 'function' || typeof scenario.name !== 'string') {
    throw new Error(`${file} has no default export that is a Scenario (name, description, run)`);
  }
  const emit: Emit = (f) => print({ ...f, scenario: scenario.name, size, ok: keeps(f.value, f.bound) });
  let failed = false;
  try {
    await scenario.run(size, emit, evidence);
  } catch (err) {
    failed = true;
    process.stderr.write(`${scenario.name}: could not measure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  } finally {
    await stopAll();
  }
  const leaks = evidence.leaks();
  for (const leak of leaks) process.stderr.write(`${scenario.name}: ${leak.secret} appears in the output of ${leak.output}\n`);
  const secrets = (name: string, value: number, unit: string, bound: ReliabilityFigure['bound']): void =>
    print({ scenario: 'secrets', name: `${scenario.name}: ${name}`, value, unit, bound, ok: keeps(value, bound), size });
  secrets('secrets found in its output', leaks.length, 'secrets', { atMost: 0 });
  secrets('secrets scanned for', evidence.secretCount, 'secrets', { atLeast: 1 });
  secrets('output scanned', Math.round((evidence.outputBytes / 1024) * 10) / 10, 'KiB', undefined);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void stopAll().finally(() => process.exit(1));
  },
);
