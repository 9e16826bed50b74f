import { type Logger } from '@tessera/core';
import { type RunningConsole, startConsole } from '@tessera/console';
import type { Signer } from '@tessera/secure-channel';

/** Where the demo serves the operator's console: `host:port`, or none. */
export type DemoConsoleListen = { host: string; port: number } | false;

/**
 * The operator's web console (packages/console) for the demo's hub, as the
 * demo's operator (an admin in the hub's settings). On the asked port, or on
 * any free one when that is taken (a second demo, another program).
 */
export async function startDemoConsole(
  listen: { host: string; port: number },
  hub: { url: string; identifier: string },
  operator: Signer,
  onLoginLink: (url: string) => void,
  logger: Logger,
): Promise<RunningConsole> {
  const start = (port: number) => startConsole({ hub: hub.url, hubIdentifier: hub.identifier, identity: operator, host: listen.host, port, onLoginLink, logger });
  try {
    return await start(listen.port);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'EADDRINUSE' || listen.port === 0) throw err;
    return await start(0);
  }
}
