// Runs every bench/*.bench.ts (or those whose name starts with an argument) one after
// another, each in its own process so one benchmark's heap does not skew the next.
// Every JSON line a benchmark prints is echoed and kept, with the benchmark's file, the
// time and the machine's load average when it started, in bench/results.jsonl (or the
// file after --out): the lines of the benchmarks run replace their earlier lines, the
// others stay. scripts/bench-table.ts turns that file into docs/benchmarks.md's table.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? resolve(args.splice(outAt, 2)[1] ?? '') : join(here, 'results.jsonl');
const wanted = args;
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

/** Runs one benchmark; its JSON lines, annotated, and whether it succeeded. */
async function runOne(file: string): Promise<{ lines: string[]; ok: boolean }> {
  const at = new Date().toISOString();
  const load1 = Math.round(loadavg()[0]! * 100) / 100;
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, file)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  for await (const line of createInterface({ input: child.stdout })) {
    process.stdout.write(line + '\n');
    if (!line.startsWith('{')) continue;
    const figure = JSON.parse(line) as Record<string, unknown>;
    lines.push(JSON.stringify({ ...figure, bench: file, at, load1 }));
  }
  const code = await exited;
  if (code !== 0) process.stderr.write(`# ${file} failed with ${String(code)}\n`);
  return { lines, ok: code === 0 };
}

const kept = existsSync(out)
  ? readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !files.includes((JSON.parse(l) as { bench?: string }).bench ?? ''))
  : [];
let failed = 0;
const fresh: string[] = [];
for (const file of files) {
  process.stderr.write(`# ${file}\n`);
  const { lines, ok } = await runOne(file);
  fresh.push(...lines);
  if (!ok) failed += 1;
  // written after each benchmark, so an interrupted run keeps what it measured
  writeFileSync(out, [...kept, ...fresh].map((l) => l + '\n').join(''));
}
process.stderr.write(`# results in ${out}; \`npm run bench:table\` regenerates docs/benchmarks.md's table from them\n`);
process.exit(failed === 0 ? 0 : 1);
