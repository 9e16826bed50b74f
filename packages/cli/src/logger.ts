import type { Logger } from '@tessera/core';
import { pino } from 'pino';

/** Structured JSON logs on stderr (stdout stays for what a command prints). Secrets are redacted by key. */
export function cliLogger(level: string, name: string): Logger {
  return pino(
    {
      name,
      level,
      redact: { paths: ['token', 'value', 'password', '*.token', '*.value', '*.password', 'lease.value'], censor: '[redacted]' },
    },
    pino.destination(2),
  );
}
