import { describeError, Node, silentLogger } from '@tessera/core';
import { HubNotTrustedError, HubSession, NotEnrolledError } from '@tessera/lease-client';
import { isIdentifier, loadIdentity } from '@tessera/secure-channel';
import { routeTo, WebSocketTransport } from '@tessera/transport-ws';
import { Option } from 'commander';

/**
 * Exit codes of the commands that ask a hub (`tessera lease`, `tessera enroll`):
 * 1 the hub refused (any failure code but `unavailable`, or a hub identity not
 * trusted), 2 usage, 3 the hub did not answer or answered `unavailable`.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3 } as const;

/** How a command reaches the hub: its flags. */
export interface HubTarget {
  hub: string;
  /** The identity file: requests go through a secure channel. */
  identity?: string;
  /** Trust only this hub identifier. */
  hubIdentity?: string;
  /** Plaintext, no identity (an insecure hub). */
  insecure?: boolean;
  timeout: string | number;
}

/** The flags of HubTarget, for a command that asks a hub. */
export function hubTargetOptions(options: { insecure: boolean }): Option[] {
  const list = [
    new Option('--hub <url>', 'the hub: ws://host:port, host:port or a route').env('TESSERA_HUB').default('ws://127.0.0.1:4000'),
    new Option('--identity <file>', 'our identity file (tessera identity create): requests go through a secure channel').env('TESSERA_IDENTITY'),
    new Option('--hub-identity <id>', "trust only the hub with this identifier (I…); default: any hub that answers").env('TESSERA_HUB_IDENTITY'),
    new Option('--timeout <ms>', 'how long to wait for the hub').default('10000'),
  ];
  if (options.insecure) list.push(new Option('--insecure', 'plaintext, without an identity (an insecure development hub)'));
  return list;
}

/** Tells the user, on stderr, that the hub was trusted without --hub-identity, and how to pin it. */
function warnUnpinned(command: string, hub: string): void {
  process.stderr.write(
    `${command}: warning: the hub identity is not pinned: trusting ${hub}, whichever hub answered; pass --hub-identity ${hub} (or TESSERA_HUB_IDENTITY) to refuse any other\n`,
  );
}

/** Writes `message` for `command` and exits with `code`. */
export function exitWith(command: string, code: number, message: string): never {
  process.stderr.write(`${command}: ${message}\n`);
  process.exit(code);
}

/**
 * Sends one JSON request to `worker` on the hub, through a secure channel with
 * the identity (or in plaintext with --insecure), and resolves with the
 * answer's bytes. Exits on a usage error (2), on a hub that is not trusted
 * or does not count us as a member when `member` is required (1), and when the
 * hub does not answer (3).
 */
export async function requestHub(command: string, target: HubTarget, worker: string, body: string): Promise<Uint8Array> {
  const timeout = Number(target.timeout);
  if (!Number.isSafeInteger(timeout) || timeout <= 0) exitWith(command, EXIT.usage, '--timeout must be a positive whole number of milliseconds');
  if (target.insecure === true && (target.identity !== undefined || target.hubIdentity !== undefined)) {
    exitWith(command, EXIT.usage, '--insecure is plaintext: it takes no --identity or --hub-identity');
  }
  if (target.insecure !== true && target.identity === undefined) {
    exitWith(command, EXIT.usage, `--identity FILE (or TESSERA_IDENTITY) is required: requests go through a secure channel${worker === 'authority' ? '' : ' (--insecure for a development hub)'}`);
  }
  if (target.hubIdentity !== undefined && !isIdentifier(target.hubIdentity)) exitWith(command, EXIT.usage, '--hub-identity must be an identifier: I and 64 lowercase hex digits');
  let to;
  try {
    to = routeTo(target.hub, worker);
  } catch (err) {
    exitWith(command, EXIT.usage, (err as Error).message);
  }
  let identity;
  if (target.identity !== undefined) {
    try {
      identity = await loadIdentity(target.identity);
    } catch (err) {
      const missing = (err as { code?: unknown }).code === 'ENOENT';
      exitWith(command, EXIT.usage, missing ? `no identity file ${target.identity} (tessera identity create --out ${target.identity})` : (err as Error).message);
    }
  }
  const node = new Node({ name: 'tessera-cli', logger: silentLogger });
  new WebSocketTransport(node, { reconnect: { maxAttempts: 2, initialDelay: 200 } });
  const session =
    identity === undefined
      ? undefined
      : new HubSession({
          node,
          hub: to,
          identity,
          hubIdentifier: target.hubIdentity,
          // the hub decides each request: an admin it names need not be a member
          credential: 'if-member',
          requestTimeout: timeout,
          logger: silentLogger,
        });
  if (session !== undefined && target.hubIdentity === undefined) session.once('opened', ({ hub }) => warnUnpinned(command, hub));
  let failure: unknown;
  let payload: Uint8Array | undefined;
  try {
    payload = (session === undefined ? await node.request(to, body, { timeout }) : await session.request(worker, body)).payload;
  } catch (err) {
    failure = err;
  }
  session?.close();
  await node.stop({ timeout: 100 });
  if (payload !== undefined) return payload;
  const refused = failure instanceof HubNotTrustedError || failure instanceof NotEnrolledError;
  exitWith(command, refused ? EXIT.failure : EXIT.unreachable, refused ? (failure as Error).message : `hub ${target.hub} did not answer: ${describeError(failure).message}`);
}
