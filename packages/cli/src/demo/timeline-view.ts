import { type DemoEvent, type DemoSummary, seconds } from './demo-event.js';

/** Prints each event as one line: for logs, pipes and CI. */
export class TimelineView {
  constructor(private readonly out: { write(text: string): unknown }) {}

  event(e: DemoEvent): void {
    this.out.write(`${seconds(e.at).padStart(7)}  ${e.source.padEnd(9)} ${e.text}\n`);
  }

  start(lines: string[]): void {
    this.out.write(lines.join('\n') + '\n\n');
  }

  stop(summary: DemoSummary): void {
    this.out.write('\n' + summaryText(summary));
  }
}

export function summaryText(s: DemoSummary): string {
  return [
    `demo summary (${s.seconds.toFixed(0)} s)`,
    `  devices enrolled:     ${s.devicesEnrolled} (each its own identity, a one-use bootstrap token)`,
    `  secure channels:      ${s.secureChannels} opened (every lease request came through one; without: ${s.plaintextRefused})`,
    `  leases issued:        ${s.leasesIssued}`,
    `  leases renewed:       ${s.leasesRenewed}`,
    `  leases revoked:       ${s.leasesRevoked} (${s.leasesExpired} at expiry, ${s.leasesRevoked - s.leasesExpired} on request)`,
    `  operator acts:        ${s.revokedFromOutside} revoked from outside, ${s.deactivatedInInfluxdb} deactivated in InfluxDB`,
    `  met by devices:       401 met: ${s.met401}, 403 met: ${s.met403} (each reported, a new lease, the points replayed)`,
    `  points written:       ${s.pointsWritten}`,
    `  points in InfluxDB:   ${s.pointsInInfluxdb}`,
    `  points lost:          ${s.pointsLost}`,
    '',
  ].join('\n');
}
