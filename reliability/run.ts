// `npm run test:reliability [-- --size ci|full] [scenario ...]`: runs every scenario of
// reliability/scenarios/ (or those named), each in a process of its own, and prints one
// JSON line per figure on stdout (what the scenarios print besides goes to stderr). At
// full size (the default) it writes reliability/results.jsonl after each scenario (the
// scenarios run replace their earlier figures) and regenerates docs/reliability.md.
// Exits 1 if any figure does not keep its bound or a scenario did not finish, 2 on bad usage.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { ReliabilityFigure, Size } from './figure.js';
import { renderReport, REPORT_PATH } from './report.js';
import { describeMachine, mergeResults, readResults, type ResultLine, resultLine, writeResults } from './results.js';
import { describeFailures, listScenarios, runScenario } from './runner.js';

function usage(message: string): never {
  process.stderr.write(`test:reliability: ${message}\nusage: npm run test:reliability -- [--size full|ci] [scenario ...]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let size: Size = 'full';
const names: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === '--size') {
    const value = args[++i];
    if (value !== 'full' && value !== 'ci') usage('--size takes full or ci');
    size = value;
  } else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
  else names.push(arg);
}

const all = await listScenarios();
const unknown = names.filter((n) => !all.some((e) => e.name === n));
if (unknown.length > 0) usage(`no scenario ${unknown.join(', ')}; there are: ${all.map((e) => e.name).join(', ')}`);
const chosen = names.length === 0 ? all : all.filter((e) => names.includes(e.name));


const machine = describeMachine();
const figures: ReliabilityFigure[] = [];
const lines: ResultLine[] = [];
const descriptions: Record<string, string> = {};
let unfinished = 0;
for (const entry of chosen) {
  process.stderr.write(`# ${entry.name} (${size})\n`);
  const at = new Date().toISOString();
  const load1 = Math.round(loadavg()[0]! * 100) / 100;
  const run = await runScenario(entry, size, {
    onFigure: (f) => process.stdout.write(JSON.stringify(f) + '\n'),
    onOutput: (text) => process.stderr.write(text),
  });
  figures.push(...run.figures);
  if (!run.finished) unfinished++;
  if (size === 'full') {
    // written after each scenario: an interrupted run keeps what it measured
    descriptions[entry.name] = entry.description;
    lines.push(...run.figures.map((f) => resultLine(f, { scenario: entry.name, at, commit: machine.commit, load1 })));
    const results = mergeResults(readResults(), { scenarios: descriptions, figures: lines }, { ...machine, date: new Date().toISOString() });
    writeResults(results);
    writeFileSync(REPORT_PATH, renderReport(results));
  }
}
const failures = describeFailures(figures);
if (failures !== '') process.stderr.write(`# figures that do not keep their bounds:\n${failures}\n`);
if (size === 'full') process.stderr.write('# results in reliability/results.jsonl, docs/reliability.md regenerated\n');
process.exit(failures === '' && unfinished === 0 ? 0 : 1);
