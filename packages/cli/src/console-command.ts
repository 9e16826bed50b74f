import { startConsole } from '@tessera/console';
import { isIdentifier, loadIdentity } from '@tessera/secure-channel';
import { routeTo } from '@tessera/transport-ws';
import { Command, Option } from 'commander';
import { EXIT, exitWith } from './hub-request.js';
import { isLoopback, parseListen } from './listen-address.js';
import { cliLogger } from './logger.js';
import { onShutdownSignal } from './shutdown.js';

const COMMAND = 'tessera console';

interface ConsoleCommandOptions {
  hub: string;
  identity: string;
  hubIdentity?: string;
  listen: string;
  logLevel: string;
}

/**
 * `tessera console`: the operator's web page for a hub (packages/console),
 * served on loopback by a process that holds a secure channel to the hub as
 * an admin. Prints a one-time login link (a new one after each use) on stdout.
 */
export function consoleCommand(): Command {
  return new Command('console')
    .description("serve the operator's web page for a hub (leases, members, expiries, health; revoke, remove, make bootstrap tokens) on loopback, as an admin through a secure channel")
    .addOption(new Option('--hub <url>', 'the hub: ws://host:port, host:port or a route').env('TESSERA_HUB').default('ws://127.0.0.1:4000'))
    .addOption(new Option('--identity <file>', "an admin's identity file (tessera identity create)").env('TESSERA_IDENTITY').makeOptionMandatory())
    .addOption(new Option('--hub-identity <id>', 'trust only the hub with this identifier (I…)').env('TESSERA_HUB_IDENTITY'))
    .addOption(new Option('--listen <host:port>', 'where the page is served (loopback unless you mean otherwise)').env('TESSERA_CONSOLE_LISTEN').default('127.0.0.1:8080'))
    .addOption(new Option('--log-level <level>', 'debug, info, warn or error').default('warn'))
    .action(async (opts: ConsoleCommandOptions) => {
      if (opts.hubIdentity !== undefined && !isIdentifier(opts.hubIdentity)) exitWith(COMMAND, EXIT.usage, '--hub-identity must be an identifier: I and 64 lowercase hex digits');
      let listen;
      try {
        routeTo(opts.hub, 'token_lease');
        listen = parseListen(opts.listen);
      } catch (err) {
        exitWith(COMMAND, EXIT.usage, err instanceof Error ? err.message : String(err));
      }
      if (!isLoopback(listen.host)) {
        process.stderr.write(
          `${COMMAND}: warning: --listen ${listen.host} is not loopback: the page, its login link and its cookie travel unencrypted (plain HTTP) to whoever can reach it; prefer 127.0.0.1 and an SSH tunnel\n`,
        );
      }
      let identity;
      try {
        identity = await loadIdentity(opts.identity);
      } catch (err) {
        const missing = (err as { code?: unknown }).code === 'ENOENT';
        exitWith(COMMAND, EXIT.usage, missing ? `no identity file ${opts.identity} (tessera identity create --out ${opts.identity})` : (err as Error).message);
      }
      const logger = cliLogger(opts.logLevel, 'tessera-console');
      const running = await startConsole({
        hub: opts.hub,
        identity,
        hubIdentifier: opts.hubIdentity,
        host: listen.host,
        port: listen.port,
        logger,
        // the link is the operator's secret: on stdout for them, never through the logger
        onLoginLink: (url) => process.stdout.write(`console: that link is used; for another browser: ${url}\n`),
      });
      if (!running.pageBuilt) process.stderr.write(`${COMMAND}: warning: the page is not built (npm run build): the API answers, the page does not\n`);
      process.stdout.write(`console: ${running.url} for hub ${opts.hub} as ${identity.identifier}\nconsole: log in once with ${running.loginUrl}\n`);
      onShutdownSignal(() => running.stop());
    });
}
