import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Servers the harness starts, and their directories, must not outlive the
// test run: not when a test forgets stop(), not when the run is interrupted.
const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let hooked = false;

/** Makes a fresh directory under the OS temp directory that is removed when the process ends, if not before. */
export function scratchDir(prefix: string): string {
  hook();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Removes a directory made by scratchDir now. */
export function removeScratchDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Kills the child (SIGKILL) when the process ends, if it still runs. */
export function killOnExit(child: ChildProcess): void {
  hook();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

function cleanUp(): void {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  children.clear();
  dirs.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', cleanUp);
  // A signal skips 'exit': clean up, then die of the same signal as without this hook.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUp();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}
