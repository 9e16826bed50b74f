import { type DemoEvent, type DemoSnapshot, type DemoSummary, seconds, shortId } from './demo-event.js';
import { summaryText } from './timeline-view.js';

const CLEAR_BELOW = '\x1b[J';
const up = (n: number) => (n > 0 ? `\x1b[${n}A` : '');

/** A compact status view redrawn in place, for a terminal. */
export class StatusView {
  private drawnLines = 0;

  constructor(private readonly out: { write(text: string): unknown }) {}

  start(lines: string[]): void {
    this.out.write(lines.join('\n') + '\n\n');
  }

  event(_e: DemoEvent): void {
    // events show in the redrawn "recent" list
  }

  draw(s: DemoSnapshot): void {
    const lines = [
      `\x1b[1mtessera demo\x1b[0m  ${seconds(s.elapsed)}   hub ${s.hubUrl}   influxdb ${s.influxUrl}`,
      `hub: ${s.hub.issued} issued, ${s.hub.renewed} renewed, ${s.hub.expired} expired+revoked, ${s.hub.revokedOnRequest} revoked on request, lateness p99 ${s.hub.latenessP99} ms`,
      `secure: hub ${shortId(s.secure.hub)}, ${s.secure.enrolled} devices enrolled, ${s.secure.channelsOpen} secure channels open (${s.secure.channelsOpened} opened)`,
      `operator: ${s.hub.outside} revoked from outside (→ 401), ${s.hub.deactivated} deactivated in InfluxDB (→ 403)`,
      '',
      `${'device'.padEnd(10)} ${'identity'.padEnd(10)} ${'lease'.padEnd(10)} ${'expires in'.padStart(10)} ${'points'.padStart(7)} ${'401'.padStart(4)} ${'403'.padStart(4)} ${'leases'.padStart(6)} ${'lost'.padStart(5)}`,
      ...s.devices.map(
        (d) =>
          `${d.id.padEnd(10)} ${shortId(d.identifier).padEnd(10)} ${shortId(d.lease).padEnd(10)} ${(d.expires === undefined ? '-' : seconds(Math.max(0, d.expires - Date.now()))).padStart(10)} ${String(d.written).padStart(7)} ${String(d.met401).padStart(4)} ${String(d.met403).padStart(4)} ${String(d.leases).padStart(6)} ${String(d.lost).padStart(5)}`,
      ),
      '',
      'recent:',
      ...s.recent.map((e) => `  ${seconds(e.at).padStart(7)}  ${e.source.padEnd(9)} ${e.text}`),
    ];
    this.out.write(up(this.drawnLines) + '\r' + CLEAR_BELOW + lines.map((l) => l + '\x1b[K').join('\n') + '\n');
    this.drawnLines = lines.length;
  }

  stop(summary: DemoSummary): void {
    this.out.write('\n' + summaryText(summary));
  }
}
