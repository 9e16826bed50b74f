#!/usr/bin/env node
import { type Command, CommanderError } from 'commander';
import { program } from './program.js';

/** Usage and settings errors (unknown option, bad argument, bad setting) exit 2, as `tessera lease` does; help and version exit 0; other failures 1. */
function throwInsteadOfExit(cmd: Command): Command {
  cmd.exitOverride();
  for (const sub of cmd.commands) throwInsteadOfExit(sub);
  return cmd;
}

throwInsteadOfExit(program())
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    process.stderr.write(`tessera: ${err instanceof Error ? err.message : String(err)}\n`);
    const code = (err as { code?: unknown }).code;
    process.exit(code === 'INVALID_SETTINGS' || code === 'INVALID_ADDRESS' || code === 'INVALID_OPTIONS' ? 2 : 1);
  });
