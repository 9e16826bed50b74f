// influxdb-local write throughput (points/s): the official client's WriteApi against the
// same line-protocol batches POSTed with bare node:http. The server runs in its own
// process (as the demo runs it), so client and server do not share an event loop.
// Each figure is the median of REPEATS rounds, the three ways taking turns.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { InfluxDB, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import { median, REPEATS, report } from './report.js';

const POINTS = 100_000;
const BATCH = 5_000;
const TOKEN = 'bench-operator-token';
const ORG = 'tessera';
const BUCKET = 'tessera';

setLogger({ error: () => undefined, warn: () => undefined });

// The same series and timestamps every round: later rounds overwrite, so memory stays flat.
const lines = Array.from({ length: POINTS }, (_, i) => `bench,host=h${i % 100},region=r${i % 4} usage=${(i % 1000) / 10},count=${i}i,ok=true ${1_700_000_000_000_000_000 + i * 1000}`);
const batches: string[] = [];
for (let i = 0; i < POINTS; i += BATCH) batches.push(lines.slice(i, i + BATCH).join('\n'));

async function startServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = fileURLToPath(new URL('../packages/influxdb-local/src/bin.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', bin, '--port', '0', '--org', ORG, '--bucket', BUCKET], {
    env: { ...process.env, INFLUX_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m !== null) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`influxdb-local exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Writes every line with the official WriteApi; resolves once the server has acknowledged them all. */
async function viaClient(url: string, gzipThreshold: number): Promise<void> {
  let writeApi: WriteApi | undefined;
  // close() only waits for the last partial batch, so count acknowledged lines instead.
  await new Promise<void>((resolve, reject) => {
    let acknowledged = 0;
    writeApi = new InfluxDB({ url, token: TOKEN }).getWriteApi(ORG, BUCKET, 'ns', {
      batchSize: BATCH,
      flushInterval: 0,
      maxRetries: 0,
      gzipThreshold,
      writeSuccess: (written) => {
        acknowledged += written.length;
        if (acknowledged === POINTS) resolve();
      },
      writeFailed: (error) => reject(error),
    });
    writeApi.writeRecords(lines);
    writeApi.flush().catch(reject);
  });
  await writeApi?.close();
}

/** Every batch POSTed at once on a fresh keep-alive agent (as each client round has a fresh client). */
async function viaBareHttp(url: string): Promise<void> {
  // a fresh agent: a socket idle since the last round may be closed by the server just as it is reused
  const agent = new Agent({ keepAlive: true });
  try {
    await postAll(url, agent);
  } finally {
    agent.destroy();
  }
}

function postAll(url: string, agent: Agent): Promise<void> {
  const target = new URL(`/api/v2/write?org=${ORG}&bucket=${BUCKET}&precision=ns`, url);
  return Promise.all(
    batches.map(
      (body) =>
        new Promise<void>((resolve, reject) => {
          const req = request(target, { method: 'POST', agent, headers: { authorization: `Token ${TOKEN}`, 'content-type': 'text/plain; charset=utf-8' } }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
          });
          req.on('error', reject);
          req.end(body);
        }),
    ),
  ).then(() => undefined);
}

async function pointsPerSecond(run: () => Promise<void>): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const started = process.hrtime.bigint();
  await run();
  return POINTS / (Number(process.hrtime.bigint() - started) / 1e9);
}

const server = await startServer();
try {
  const modes = {
    clientGzip: () => viaClient(server.url, 1_000), // the client's default: gzip past 1000 bytes
    clientPlain: () => viaClient(server.url, Number.MAX_SAFE_INTEGER),
    bare: () => viaBareHttp(server.url),
  };
  const results: Record<keyof typeof modes, number[]> = { clientGzip: [], clientPlain: [], bare: [] };
  for (const run of Object.values(modes)) await run(); // warm-up: first inserts, JIT
  for (let round = 0; round < REPEATS; round++) {
    for (const [name, run] of Object.entries(modes) as Array<[keyof typeof modes, () => Promise<void>]>) results[name].push(await pointsPerSecond(run));
  }

  const check = await fetch(`${server.url}/api/v2/local/points?org=${ORG}&bucket=${BUCKET}&measurement=bench&tag.host=h0`, { headers: { authorization: `Token ${TOKEN}` } });
  const { count } = (await check.json()) as { count: number };
  if (count !== POINTS / 100) throw new Error(`expected ${POINTS / 100} points of host h0, found ${count}`);

  const baseline = `the same ${BATCH}-line batches POSTed with bare node:http (a fresh keep-alive agent per round, all batches in flight, no gzip)`;
  report({ name: `influxdb-local write, official client WriteApi (batches of ${BATCH}, gzip as by default)`, value: median(results.clientGzip), unit: 'points/s', baseline, baselineValue: median(results.bare), repeats: REPEATS });
  report({ name: `influxdb-local write, official client WriteApi (batches of ${BATCH}, gzip off)`, value: median(results.clientPlain), unit: 'points/s', baseline, baselineValue: median(results.bare), repeats: REPEATS });
} finally {
  await server.stop();
}
