import { defineError } from '@tessera/core';
import { z } from 'zod';

/** How to start an influxdb-local server. */
export interface InfluxdbLocalOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on; 0 picks a free one (default 8086). */
  port?: number;
  /** The org made at start if missing (default 'tessera'). */
  org?: string;
  /** The bucket made in that org at start if missing (default 'tessera'). */
  bucket?: string;
  /** The operator (all-access) token; default INFLUX_TOKEN, else the persisted one, else random. */
  token?: string;
  /** A JSON file: loaded at start if present, written (debounced) on every change and on close. */
  persistPath?: string;
  /** Where createdAt/updatedAt and default point times come from (default: the system clock). */
  clock?: () => Date;
  /** Largest request body accepted, after gzip decoding (default 25 MiB); larger writes get 413. */
  maxBodyBytes?: number;
  /** Called once for every request answered (an access log); never given a header, a body or a query string, so never a token. */
  accessLog?: (entry: AccessLogEntry) => void;
}

/** One answered request, for `accessLog`. */
export interface AccessLogEntry {
  method: string;
  /** The path, without the query string (at most 256 characters). */
  path: string;
  status: number;
  /** From the request's arrival to the last byte of the answer. */
  ms: number;
}

/** Thrown by startInfluxdbLocal when its options are not valid. */
export const InfluxdbLocalOptionsError = defineError('InfluxdbLocalOptionsError', 'INVALID_OPTIONS');
export type InfluxdbLocalOptionsError = InstanceType<typeof InfluxdbLocalOptionsError>;

export const DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024;

const name = z.string().min(1).max(255);
const schema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8086),
    org: name.default('tessera'),
    bucket: name.refine((b) => !b.startsWith('_'), 'a bucket name may not start with an underscore').default('tessera'),
    token: z.string().regex(/^\S+$/, 'a token is one or more characters without whitespace').optional(),
    persistPath: z.string().min(1).optional(),
    clock: z.custom<() => Date>((v) => typeof v === 'function', 'clock must be a function returning a Date').optional(),
    maxBodyBytes: z.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
    accessLog: z.custom<(entry: AccessLogEntry) => void>((v) => typeof v === 'function', 'accessLog must be a function').optional(),
  })
  .strict();

export type ResolvedOptions = z.output<typeof schema> & { clock: () => Date };

/** Validates options and fills in defaults; the token falls back to INFLUX_TOKEN in `env`. */
export function resolveOptions(input: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw new InfluxdbLocalOptionsError(`invalid influxdb-local options: ${z.prettifyError(parsed.error)}`);
  const envToken = env.INFLUX_TOKEN;
  const token = parsed.data.token ?? (envToken !== undefined && envToken !== '' ? envToken : undefined);
  if (token !== undefined && !/^\S+$/.test(token)) throw new InfluxdbLocalOptionsError('invalid influxdb-local options: INFLUX_TOKEN contains whitespace');
  return { ...parsed.data, token, clock: parsed.data.clock ?? (() => new Date()) };
}
