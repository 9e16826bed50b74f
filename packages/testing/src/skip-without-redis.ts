/**
 * Runs `start` (a harness start of redis-server, redis-cli, ...); when the program is not
 * installed the test is skipped, except under CI=true, where it fails.
 */
export async function skipWithoutRedis<T>(ctx: Mocha.Context, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (/not found: install/.test((err as Error).message) && process.env['CI'] !== 'true') ctx.skip();
    throw err;
  }
}
