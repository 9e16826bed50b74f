/**
 * A gateway that embeds a Tessera device: it asks a hub for a short-lived
 * InfluxDB token, writes one reading per interval with it, and when InfluxDB
 * answers 401 or 403 (the lease was revoked or deactivated) it reports the
 * lease, gets a new one and replays what failed. Copy it and replace
 * `readSensor` with your own reading.
 *
 *   TESSERA_HUB=ws://127.0.0.1:4000 INFLUX_URL=http://127.0.0.1:8086 node dist/gateway.js
 */
import { hostname } from 'node:os';
import { startDevice } from '@tessera/device';

const hub = process.env['TESSERA_HUB'] ?? 'ws://127.0.0.1:4000';
const influxUrl = process.env['INFLUX_URL'];
if (influxUrl === undefined) {
  process.stderr.write('set INFLUX_URL to the InfluxDB the hub leases tokens for\n');
  process.exit(2);
}

/** Your sensor: here a slow sine wave with a little noise. */
function readSensor(_seq: number, now: number): number {
  return 20 + 5 * Math.sin(now / 60_000) + Math.random() * 0.1;
}

const device = await startDevice({
  hub,
  deviceId: process.env['DEVICE_ID'] ?? hostname(),
  influxUrl,
  org: process.env['INFLUX_ORG'] ?? 'tessera',
  bucket: process.env['INFLUX_BUCKET'] ?? 'tessera',
  interval: 5_000,
  sample: readSensor,
  // keep the lease across restarts of the gateway, encrypted at rest
  cache: { path: '.tessera/lease.bin', keyFile: '.tessera/lease.key' },
});

device.on('lease', ({ lease, reason }) => console.log(`lease ${lease.id} (${reason}) until ${lease.expires}`));
device.on('auth-failure', ({ leaseId, status }) => console.log(`InfluxDB answered ${status} to lease ${leaseId}: renewing`));
device.on('token-swapped', ({ from, to }) => console.log(`now writing with lease ${to} (was ${from})`));
device.on('point-lost', ({ seq, reason }) => console.error(`point ${seq} lost: ${reason}`));

const stop = async () => {
  await device.stop();
  const { pointsWritten, pointsLost, authFailures, leasesUsed } = device.stats();
  console.log(`stopped: ${pointsWritten} points written, ${pointsLost} lost, ${authFailures} auth failures, ${leasesUsed} leases`);
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
