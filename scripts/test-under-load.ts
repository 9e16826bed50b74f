// `npm run test:under-load`: runs `npm test` while another process keeps one core busy
// with a tight loop, to find tests that rely on timing a loaded machine breaks. Exits
// with the tests' status. The loop is stopped by its PID when the tests end, when this
// script fails, or on SIGINT/SIGTERM (which also go on to the tests); and should this
// script be killed outright, the loop notices its parent is gone and stops itself.
import { spawn } from 'node:child_process';

// Checks every few million turns whether its parent is still the one that started it.
const LOOP = `const parent = process.ppid; for (let i = 0; ; i++) if ((i & 0x3fffff) === 0 && process.ppid !== parent) process.exit(0);`;

const busy = spawn(process.execPath, ['-e', LOOP], { stdio: 'ignore' });
const stopBusy = (): void => {
  if (busy.exitCode === null && busy.signalCode === null && busy.pid !== undefined) process.kill(busy.pid, 'SIGKILL');
};
process.on('exit', stopBusy);
process.stderr.write(`# test:under-load: a busy loop (pid ${busy.pid}) holds one core while npm test runs\n`);

const tests = spawn('npm', ['test', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopBusy();
    tests.kill(signal);
  });
}
tests.once('error', (err) => {
  process.stderr.write(`# test:under-load: could not run npm test: ${err.message}\n`);
  stopBusy();
  process.exit(1);
});
tests.once('exit', (code, signal) => {
  stopBusy();
  process.exit(code ?? (signal === null ? 1 : 128 + (signal === 'SIGINT' ? 2 : 15)));
});
