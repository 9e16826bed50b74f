// reliability/results.jsonl: the latest full-size run. Its first line describes the
// machine (and names each scenario with its description); every other line is one
// figure, with the scenario process that measured it (`run`), when, and at which commit.
// A run of some scenarios replaces their lines and keeps the others', if they were
// measured on the same machine; a file never mixes machines.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType, arch } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ReliabilityFigure } from './figure.js';

const root = fileURLToPath(new URL('../', import.meta.url));
export const RESULTS_PATH = join(root, 'reliability/results.jsonl');

const BoundSchema = z.object({ atMost: z.number().optional(), atLeast: z.number().optional() }).strict();

/** A figure as a scenario process prints it (one JSON line on stdout). */
export const FigureSchema = z
  .object({
    scenario: z.string().min(1),
    name: z.string().min(1),
    /** null in JSON when it was not a finite number (JSON has no NaN): such a figure keeps no bound. */
    value: z
      .number()
      .nullable()
      .transform((v) => v ?? Number.NaN),
    unit: z.string(),
    bound: BoundSchema.optional(),
    ok: z.boolean(),
    size: z.enum(['full', 'ci']),
  })
  .strict();

/** A figure as results.jsonl keeps it. */
export const ResultLineSchema = FigureSchema.extend({
  /** The scenario whose process measured it (a `secrets` figure's is the scenario scanned). */
  run: z.string().min(1),
  /** When that scenario ran (ISO 8601). */
  at: z.string(),
  commit: z.string(),
  /** The machine's 1-minute load average when that scenario started: other work on the machine shows here. */
  load1: z.number(),
}).strict();
export type ResultLine = z.output<typeof ResultLineSchema>;

export const MachineSchema = z
  .object({
    cpu: z.string(),
    cores: z.number().int().positive(),
    memoryGiB: z.number().positive(),
    node: z.string(),
    os: z.string(),
    /** When the file was last written. */
    date: z.string(),
    /** The commit of the last write (with `+changes` when the tree had uncommitted changes). */
    commit: z.string(),
  })
  .strict();
export type Machine = z.output<typeof MachineSchema>;

const HeaderSchema = z.object({ machine: MachineSchema, scenarios: z.record(z.string(), z.string()) }).strict();

export interface Results {
  machine: Machine;
  /** Each scenario's description, by name. */
  scenarios: Record<string, string>;
  figures: ResultLine[];
}

/** This machine, now, at the working tree's commit. */
export function describeMachine(): Machine {
  const all = cpus();
  return {
    cpu: all[0]?.model.trim() ?? 'unknown',
    cores: all.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${osType()} ${release()} ${arch()}`,
    date: new Date().toISOString(),
    commit: currentCommit(),
  };
}

function currentCommit(): string {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? commit : `${commit}+changes`;
  } catch {
    return 'unknown';
  }
}

/** The results in `path`, or undefined if there is no such file; throws naming the line that is not what it should be. */
export function readResults(path = RESULTS_PATH): Results | undefined {
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .map((line, i) => ({ line, where: `${path}:${i + 1}` }))
    .filter(({ line }) => line.trim() !== '');
  const [first, ...rest] = lines;
  if (first === undefined) throw new Error(`${path} is empty: it starts with a line describing the machine`);
  const parse = <T>(schema: z.ZodType<T>, { line, where }: { line: string; where: string }): T => {
    const parsed = schema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`${where}: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  };
  const header = parse(HeaderSchema, first);
  return { machine: header.machine, scenarios: header.scenarios, figures: rest.map((l) => parse(ResultLineSchema, l)) };
}

/** Whether two machine descriptions name the same machine (date and commit aside). */
function sameMachine(a: Machine, b: Machine): boolean {
  return a.cpu === b.cpu && a.cores === b.cores && a.memoryGiB === b.memoryGiB && a.node === b.node && a.os === b.os;
}

/**
 * `earlier` with the figures of the scenarios in `fresh` replaced by these, on `machine`;
 * the earlier figures of other scenarios stay only if they were measured on the same machine.
 */
export function mergeResults(earlier: Results | undefined, fresh: { scenarios: Record<string, string>; figures: ResultLine[] }, machine: Machine): Results {
  const kept = earlier !== undefined && sameMachine(earlier.machine, machine) ? earlier : undefined;
  const replaced = new Set(Object.keys(fresh.scenarios));
  const figures = [...(kept?.figures.filter((f) => !replaced.has(f.run)) ?? []), ...fresh.figures];
  const runs = new Set(figures.map((f) => f.run));
  const scenarios: Record<string, string> = {};
  for (const [name, description] of Object.entries({ ...kept?.scenarios, ...fresh.scenarios })) if (runs.has(name)) scenarios[name] = description;
  return { machine, scenarios, figures };
}

export function writeResults(results: Results, path = RESULTS_PATH): void {
  const lines = [JSON.stringify({ machine: results.machine, scenarios: results.scenarios }), ...results.figures.map((f) => JSON.stringify(f))];
  writeFileSync(path, lines.join('\n') + '\n');
}

/** A figure of a scenario's process as results.jsonl keeps it. */
export function resultLine(figure: ReliabilityFigure, run: { scenario: string; at: string; commit: string; load1: number }): ResultLine {
  return { ...figure, run: run.scenario, at: run.at, commit: run.commit, load1: run.load1 };
}
