import { fromUtf8 } from '@tessera/core';
import { ApiResponseSchema, AUTHORITY_WORKER } from '@tessera/lease-client';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { EXIT, exitWith, type HubTarget, hubTargetOptions, requestHub } from './hub-request.js';
import { optionValue, positiveWholeNumber } from './settings/values.js';

const COMMAND = 'tessera enroll';

const CreatedSchema = z.looseObject({ token: z.string().min(1), reference: z.string(), expires: z.string().optional() });
const MembersSchema = z.looseObject({
  members: z.array(
    z.looseObject({
      identifier: z.string(),
      attributes: z.record(z.string(), z.string()),
      enrolledAt: z.string().optional(),
      enrolled_at: z.string().optional(),
    }),
  ),
});

interface CreateTokenOptions extends HubTarget {
  attr: Record<string, string>;
  uses?: number;
  ttl?: number;
}

/** `k=v` of an --attr flag, added to those before it. */
const attribute = optionValue((text) => {
  const at = text.indexOf('=');
  return at > 0 ? ([text.slice(0, at), text.slice(at + 1)] as const) : undefined;
}, 'key=value');

/**
 * `tessera enroll create-token|members|remove`: the admin's side of the hub's
 * authority (docs/protocol.md §6), through a secure channel with the admin's
 * identity. Exit codes as `tessera lease`: 0 ok, 1 refused, 2 usage, 3 hub unreachable.
 */
export function enrollCommand(): Command {
  const enroll = new Command('enroll').description("manage who may join the hub: bootstrap tokens and members (an admin's identity, through a secure channel)");
  const common = (cmd: Command) => {
    for (const option of hubTargetOptions({ insecure: false })) cmd.addOption(option);
    return cmd;
  };
  enroll.addCommand(
    common(new Command('create-token').description('make a bootstrap token: prints the token on stdout (a secret: give it to one device) and its reference on stderr'))
      .addOption(
        new Option('--attr <key=value>', 'an attribute the member gets (repeat for more), e.g. role=device')
          .argParser((text: string, previous: Record<string, string> | undefined) => {
            const [key, value] = attribute(text);
            return { ...previous, [key]: value };
          })
          .default({}),
      )
      .addOption(new Option('--uses <n>', 'how many devices may redeem it (default 1)').argParser(positiveWholeNumber))
      .addOption(new Option('--ttl <ms>', 'how long it may be redeemed, in ms (default 600000)').argParser(positiveWholeNumber))
      .action(async (opts: CreateTokenOptions) => {
        const body = { action: 'create_token', attributes: opts.attr, ...(opts.uses === undefined ? {} : { uses: opts.uses }), ...(opts.ttl === undefined ? {} : { ttl: opts.ttl }) };
        const created = CreatedSchema.safeParse(await ask(opts, body));
        if (!created.success) exitWith(COMMAND, EXIT.failure, 'the answer to create_token has no token (docs/protocol.md §6)');
        const { token, reference, expires } = created.data;
        // the token alone on stdout, so `$(tessera enroll create-token ...)` holds nothing else
        process.stdout.write(`${token}\n`);
        process.stderr.write(`token reference ${reference}${expires === undefined ? '' : `, expires ${expires}`}\n`);
      }),
  );
  enroll.addCommand(
    common(new Command('members').description('list the members: identifier, attributes, when each enrolled (JSON; --pretty a table)'))
      .option('--pretty', 'print a table instead of JSON')
      .action(async (opts: HubTarget & { pretty?: boolean }) => {
        const response = await ask(opts, { action: 'members' });
        if (opts.pretty !== true) {
          process.stdout.write(`${JSON.stringify(response)}\n`);
          return;
        }
        const members = MembersSchema.safeParse(response);
        if (!members.success) exitWith(COMMAND, EXIT.failure, 'the answer to members has no members list (docs/protocol.md §6)');
        process.stdout.write(membersTable(members.data.members));
      }),
  );
  enroll.addCommand(
    common(new Command('remove').description('end a membership: that identity gets no more credentials or leases').argument('<identifier>', 'the member (I…)')).action(
      async (identifier: string, opts: HubTarget) => {
        process.stdout.write(`${JSON.stringify(await ask(opts, { action: 'remove', identifier }))}\n`);
      },
    ),
  );
  return enroll;
}

/** One request to the authority; exits on a failure (3 for `unavailable`, 1 otherwise), resolves with a success. */
async function ask(target: HubTarget, request: object): Promise<Record<string, unknown>> {
  const payload = await requestHub(COMMAND, target, AUTHORITY_WORKER, JSON.stringify(request));
  let response;
  try {
    response = ApiResponseSchema.safeParse(JSON.parse(fromUtf8(payload)));
  } catch {
    response = undefined;
  }
  if (response === undefined || !response.success) exitWith(COMMAND, EXIT.failure, `the answer of ${target.hub} is not an authority response (docs/protocol.md §6)`);
  const { data } = response;
  if (data.result === 'failure') {
    const code = data.code ?? 'internal';
    exitWith(COMMAND, code === 'unavailable' ? EXIT.unreachable : EXIT.failure, `${data.message ?? 'failure'} (${code})`);
  }
  return data;
}

function membersTable(members: z.infer<typeof MembersSchema>['members']): string {
  const header = ['IDENTIFIER', 'ATTRIBUTES', 'ENROLLED'];
  const rows = members.map((m) => [
    m.identifier,
    Object.entries(m.attributes)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
    m.enrolledAt ?? m.enrolled_at ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + (members.length === 0 ? '\n(no members)\n' : '\n');
}
