import { InfluxdMissingError, startInfluxd, type RunningInfluxd } from '@tessera/testing';

/**
 * A real influxd, or a skip when it is not installed locally. Under CI=true a
 * missing influxd fails the run: tests must never pass by not running.
 */
export async function influxdOrSkip(ctx: Mocha.Context): Promise<RunningInfluxd> {
  try {
    return await startInfluxd();
  } catch (err) {
    if (err instanceof InfluxdMissingError && process.env.CI !== 'true') {
      ctx.skip(); // throws: mocha marks the suite pending with this reason in the output
    }
    throw err;
  }
}

/** Runs an InfluxQL statement as the admin; throws on any error. */
export async function adminQuery(influxd: RunningInfluxd, q: string): Promise<unknown> {
  const response = await fetch(`${influxd.url}/query`, {
    method: 'POST',
    headers: { authorization: basic(influxd.adminUser, influxd.adminPassword) },
    body: new URLSearchParams({ q }),
  });
  const body = (await response.json()) as { results?: Array<{ error?: string }>; error?: string };
  const error = body.error ?? body.results?.find((r) => r.error !== undefined)?.error;
  if (!response.ok || error !== undefined) throw new Error(`admin query failed: ${response.status} ${error}`);
  return body;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** A v1 lease value is `username:password`; the name never holds a colon. */
export function splitCredential(value: string): { user: string; password: string } {
  const at = value.indexOf(':');
  return { user: value.slice(0, at), password: value.slice(at + 1) };
}

/** POST /write?db= with a v1 lease's credential as Basic auth: the HTTP status. */
export async function writeV1(url: string, db: string, value: string, line = 'probe value=1'): Promise<number> {
  const { user, password } = splitCredential(value);
  const response = await fetch(`${url}/write?${new URLSearchParams({ db })}`, {
    method: 'POST',
    headers: { authorization: basic(user, password) },
    body: line,
  });
  await response.arrayBuffer();
  return response.status;
}
