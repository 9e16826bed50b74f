import { HttpError, InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import type { Lease } from '@tessera/token-lease';

/** Why a write failed, as the device acts on it. */
export type WriteFailure =
  /** 401 or 403: the token is no good; report the lease, swap the token, replay. */
  | { kind: 'auth'; status: number; error: Error }
  /** 400, 413, 422: InfluxDB will never take these lines as they are. */
  | { kind: 'rejected'; status: number; error: Error }
  /** Network, timeout, 404, 429, 5xx: the same lines may succeed later. */
  | { kind: 'transient'; status?: number; error: Error };

export interface InfluxTarget {
  url: string;
  org: string;
  bucket: string;
  timeout: number;
}

/**
 * Writes batches of lines with one lease's token through the official client.
 * A WriteApi's token is fixed, so a new lease means a new LeaseWriter. Each
 * `write` is one request that either succeeds or fails as a whole: the client
 * neither retries nor buffers (the device owns its queue and replays it), and
 * its own error logging is replaced by the rejection the device handles.
 */
export class LeaseWriter {
  private readonly api: WriteApi;

  constructor(
    readonly lease: Lease,
    target: InfluxTarget,
    maxLines: number,
  ) {
    this.api = new InfluxDB({ url: target.url, token: lease.value, timeout: target.timeout }).getWriteApi(target.org, target.bucket, 'ms', {
      maxRetries: 0,
      // larger than any batch, so writeRecords never sends on its own (such sends are not awaited)
      batchSize: maxLines + 1,
      maxBatchBytes: Number.MAX_SAFE_INTEGER,
      flushInterval: 0,
      // a returned promise means "handled": the flush rejects with it and the client logs nothing
      writeFailed: (error: Error) => Promise.reject(error),
    });
  }

  /** Writes the lines in one request: undefined when InfluxDB took them all, else why not. */
  async write(lines: readonly string[]): Promise<WriteFailure | undefined> {
    this.api.writeRecords([...lines]);
    try {
      await this.api.flush();
      return undefined;
    } catch (err) {
      return classify(err);
    }
  }

  /** Ends the WriteApi; nothing is buffered in it between writes. */
  dispose(): void {
    this.api.dispose();
  }
}

/** Sorts a write error by what the device should do next. */
export function classify(err: unknown): WriteFailure {
  const error = err instanceof Error ? err : new Error(String(err));
  if (err instanceof HttpError || isHttpErrorShape(err)) {
    const status = (err as { statusCode: number }).statusCode;
    if (status === 401 || status === 403) return { kind: 'auth', status, error };
    if (status === 400 || status === 413 || status === 422) return { kind: 'rejected', status, error };
    return { kind: 'transient', status, error };
  }
  return { kind: 'transient', error };
}

function isHttpErrorShape(err: unknown): boolean {
  return err instanceof Error && err.name === 'HttpError' && typeof (err as { statusCode?: unknown }).statusCode === 'number';
}

