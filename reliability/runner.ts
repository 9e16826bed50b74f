// Runs scenarios, each in a process of its own (reliability/scenario-process.ts), and
// collects the figures they print. The process leads a process group of its own, so
// whatever it started and left behind is found (by that group's ID) and killed when it
// ends; every group still running when this process exits is killed too. Used by
// `npm run test:reliability` (run.ts) and by the CI-sized run inside `npm test`.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { keeps, type ReliabilityFigure, type Size } from './figure.js';
import { FigureSchema } from './results.js';
import type { Scenario } from './scenario.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');
const SCENARIOS_DIR = join(here, 'scenarios');
const CHILD = join(here, 'scenario-process.ts');
/** How long a scenario process may run before it is killed (a scenario bounds its own loops well within this). */
const TIME_LIMIT_MS: Record<Size, number> = { ci: 5 * 60_000, full: 2 * 3_600_000 };
/** What is kept of a scenario process's stderr for a failure message. */
const TAIL = 4_000;

export interface ScenarioEntry {
  name: string;
  description: string;
  file: string;
}

/** Every reliability/scenarios/*.ts, by name; throws naming a file whose default export is not a Scenario. */
export async function listScenarios(): Promise<ScenarioEntry[]> {
  if (!existsSync(SCENARIOS_DIR)) return [];
  const files = readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  const entries: ScenarioEntry[] = [];
  for (const f of files) {
    const file = join(SCENARIOS_DIR, f);
    const scenario = ((await import(pathToFileURL(file).href)) as { default?: Partial<Scenario> }).default;
    if (typeof scenario?.name !== 'string' || typeof scenario.description !== 'string' || typeof scenario.run !== 'function') {
      throw new Error(`reliability/scenarios/${f}: its default export is not a Scenario (name, description, run)`);
    }
    if (scenario.name !== basename(f, '.ts')) throw new Error(`reliability/scenarios/${f}: its name is ${scenario.name}, not ${basename(f, '.ts')}`);
    entries.push({ name: scenario.name, description: scenario.description, file });
  }
  return entries;
}

export interface RunOptions {
  /** Each figure as it arrives. */
  onFigure?: (figure: ReliabilityFigure) => void;
  /** What the scenario process prints besides figures (stderr, and stdout lines that are not figures); default: kept for the failure figure only. */
  onOutput?: (text: string) => void;
}

export interface ScenarioRun {
  figures: ReliabilityFigure[];
  /** Whether the process exited 0 (it measured everything) within its time. */
  finished: boolean;
  /** The tail of what it printed on stderr. */
  stderrTail: string;
}

/** Process groups of scenario processes still running: killed if this process exits first. */
const groups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const pgid of groups) killGroup(pgid);
  };
  process.once('exit', killAll);
  // a scenario process leads a group of its own, which a terminal's Ctrl-C does not reach: end it here,
  // then let the signal do what it would have done (if no one else listens for it, end this process)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** SIGKILL to every process of group `pgid`; false if there was none. */
function killGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** How many processes are in group `pgid` (from /proc; 1 where /proc cannot tell but the group exists). */
function groupSize(pgid: number): number {
  try {
    process.kill(-pgid, 0);
  } catch {
    return 0;
  }
  let n = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        // the fields after the name, which is in parentheses and may hold spaces: state, ppid, pgrp, …
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) === pgid && fields[0] !== 'Z') n++;
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    return 1;
  }
  return n;
}

/**
 * Runs `entry` at `size` in a process of its own and resolves with its figures, plus
 * a failing figure of the runner's when the process did not finish (it threw, crashed
 * or ran out of time) and when it left processes running (they are killed).
 */
export function runScenario(entry: ScenarioEntry, size: Size, options: RunOptions = {}): Promise<ScenarioRun> {
  installExitHook();
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, entry.file, size], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = child.pid;
  if (pgid === undefined) return Promise.reject(new Error(`could not start the process of ${entry.name}`));
  groups.add(pgid);
  const figures: ReliabilityFigure[] = [];
  let stderrTail = '';
  const other = (text: string): void => {
    stderrTail = (stderrTail + text).slice(-TAIL);
    options.onOutput?.(text);
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', other);
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const figure = parseFigure(line);
    if (figure === undefined) return other(line + '\n');
    figures.push(figure);
    options.onFigure?.(figure);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(pgid);
  }, TIME_LIMIT_MS[size]);
  return new Promise<ScenarioRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const extra: ReliabilityFigure[] = [];
      const failing = (name: string, value: number, unit: string, bound: ReliabilityFigure['bound']): void => {
        extra.push({ scenario: entry.name, name, value, unit, bound, ok: keeps(value, bound), size });
      };
      const left = groupSize(pgid);
      if (left > 0) {
        killGroup(pgid);
        failing('processes it left running (killed by the runner)', left, 'processes', { atMost: 0 });
      }
      groups.delete(pgid);
      const finished = code === 0 && !timedOut;
      if (!finished) {
        const how = timedOut ? `ran past ${TIME_LIMIT_MS[size] / 60_000} min` : signal !== null ? `was killed by ${signal}` : `exited with ${String(code)}`;
        failing(`finished (its process ${how})`, 0, 'yes = 1', { atLeast: 1 });
      }
      for (const f of extra) options.onFigure?.(f);
      resolve({ figures: [...figures, ...extra], finished, stderrTail });
    });
  });
}

/** A figure line, or undefined for any other line. */
function parseFigure(line: string): ReliabilityFigure | undefined {
  if (!line.startsWith('{')) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = FigureSchema.safeParse(json);
  // judged again here: the bound is what counts, whatever the process said
  return parsed.success ? { ...parsed.data, ok: keeps(parsed.data.value, parsed.data.bound) } : undefined;
}

/** The figures that do not keep their bound, one per line, for a failure message. */
export function describeFailures(figures: readonly ReliabilityFigure[]): string {
  return figures
    .filter((f) => !f.ok)
    .map((f) => `${f.scenario}: ${f.name} = ${f.value} ${f.unit} (bound ${JSON.stringify(f.bound)})`)
    .join('\n');
}
