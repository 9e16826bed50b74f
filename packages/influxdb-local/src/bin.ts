#!/usr/bin/env node
import { runInfluxdbLocalCli } from './cli.js';

runInfluxdbLocalCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tessera-influxdb-local: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
