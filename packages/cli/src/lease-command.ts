import { fromUtf8 } from '@tessera/core';
import { ApiResponseSchema } from '@tessera/lease-client';
import type { Lease, LeaseResponse } from '@tessera/token-lease';
import { Command } from 'commander';
import { EXIT, type HubTarget, hubTargetOptions, requestHub } from './hub-request.js';
import { leaseTable } from './lease-table.js';
import { leaseWatchCommand } from './lease-watch.js';
import { wholeNumberFrom } from './settings/values.js';

/**
 * Exit codes of `tessera lease`: 1 the hub refused (any failure code but
 * `unavailable`), 3 the hub did not answer or answered `unavailable` (try
 * again later). Decided on the response's `code` (docs/protocol.md §4).
 */
export { EXIT };

interface LeaseOptions extends HubTarget {
  address: string;
  ttl?: string;
  options?: string;
  pretty?: boolean;
  requestId?: string;
}

/** `tessera lease create|get|renew|revoke|list`: one request to a hub's token_lease worker, through a secure channel (or --insecure). */
export function leaseCommand(): Command {
  const lease = new Command('lease').description('ask a hub for, about, or to end a lease (prints the JSON response); --identity FILE or --insecure');
  const common = (cmd: Command) => {
    for (const option of hubTargetOptions({ insecure: true })) cmd.addOption(option);
    return cmd
      .option('--address <name>', 'LOCAL address of the lease worker on the hub', 'token_lease')
      .option('--request-id <id>', 'request_id to send (echoed back)')
      .option('--pretty', 'print a table instead of JSON');
  };
  lease.addCommand(
    common(new Command('create').description('create a lease'))
      .option('--ttl <ms>', 'requested TTL in milliseconds')
      .option('--options <json>', 'cloud options as JSON, e.g. {"permissions":[{"action":"write","bucket":"tessera"}]}')
      .action((opts: LeaseOptions) => run(opts, createRequest(opts))),
  );
  for (const action of ['get', 'revoke'] as const) {
    lease.addCommand(
      common(new Command(action).description(`${action} a lease`).argument('<token_id>', 'the lease (token) id'))
        .action((tokenId: string, opts: LeaseOptions) => run(opts, { action, token_id: tokenId })),
    );
  }
  lease.addCommand(
    common(new Command('renew').description('renew a lease').argument('<token_id>', 'the lease (token) id'))
      .option('--ttl <ms>', 'requested TTL in milliseconds')
      .action((tokenId: string, opts: LeaseOptions) => run(opts, { action: 'renew', token_id: tokenId, ...ttlField(opts.ttl) })),
  );
  lease.addCommand(common(new Command('list').description("list the caller's leases")).action((opts: LeaseOptions) => run(opts, { action: 'list' })));
  lease.addCommand(leaseWatchCommand());
  return lease;
}

function createRequest(opts: LeaseOptions): object {
  let options: Record<string, unknown> = {};
  if (opts.options !== undefined) {
    try {
      const parsed: unknown = JSON.parse(opts.options);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      options = parsed as Record<string, unknown>;
    } catch (err) {
      usage(`--options must be a JSON object: ${(err as Error).message}`);
    }
  }
  return { action: 'create', options: { ...options, ...ttlField(opts.ttl) } };
}

function ttlField(ttl: string | undefined): { ttl?: number } {
  if (ttl === undefined) return {};
  const n = wholeNumberFrom(ttl);
  if (n === undefined || n <= 0) usage(`--ttl must be a positive whole number of milliseconds, got "${ttl}"`);
  return { ttl: n };
}

function usage(message: string): never {
  process.stderr.write(`tessera lease: ${message}\n`);
  process.exit(EXIT.usage);
}

async function run(opts: LeaseOptions, request: object): Promise<void> {
  const timeout = wholeNumberFrom(opts.timeout);
  if (timeout === undefined || timeout <= 0) usage(`--timeout must be a positive whole number of milliseconds`);
  const body = JSON.stringify(opts.requestId === undefined ? request : { ...request, request_id: opts.requestId });
  const payload = await requestHub('tessera lease', opts, opts.address, body);
  const response = responseOf(payload);
  if (response === undefined) {
    process.stderr.write(`tessera lease: the answer of ${opts.hub} is not a lease API response (docs/protocol.md §4)\n`);
    process.exit(EXIT.failure);
  }
  if (response.result !== 'success') {
    const code = response.code ?? 'internal';
    process.stderr.write(`tessera lease: ${response.message ?? 'failure'} (${code})\n`);
    process.exit(code === 'unavailable' ? EXIT.unreachable : EXIT.failure);
  }
  process.stdout.write(opts.pretty ? prettyOf(response) : JSON.stringify(response) + '\n');
}

/** The hub's answer, if it is a lease API response. */
function responseOf(payload: Uint8Array): LeaseResponse | undefined {
  try {
    const parsed = ApiResponseSchema.safeParse(JSON.parse(fromUtf8(payload)));
    return parsed.success ? (parsed.data as LeaseResponse) : undefined;
  } catch {
    return undefined;
  }
}

function prettyOf(response: LeaseResponse): string {
  const leases: Lease[] = response.leases ?? (response.lease ? [response.lease] : []);
  if (response.leases === undefined && response.lease === undefined) return 'ok\n';
  return leaseTable(leases);
}
