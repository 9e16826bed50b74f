import type { Lease } from '@tessera/token-lease';

/** Leases as an aligned text table, without their tokens (a screen is not a safe place for them). */
export function leaseTable(leases: readonly Lease[]): string {
  const header = ['ID', 'TTL (ms)', 'RENEWABLE', 'ISSUED', 'EXPIRES'];
  const rows = leases.map((l) => [l.id, String(l.ttl), l.renewable ? 'yes' : 'no', l.issued, l.expires]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + (leases.length === 0 ? '\n(no leases)\n' : '\n');
}
