#!/usr/bin/env node
import { runDeviceCli } from './cli.js';

runDeviceCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`tessera-device: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
