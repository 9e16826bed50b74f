/**
 * A gateway that embeds a Tessera device: it asks a hub for a short-lived
 * InfluxDB token, writes one reading per interval with it, and when InfluxDB
 * answers 401 or 403 (the lease was revoked or deactivated) it reports the
 * lease, gets a new one and replays what failed. It talks to the hub through a
 * secure channel as its own identity (kept in .tessera/identity.json), joins
 * the hub once with a bootstrap token, and trusts only the hub it is told.
 * Copy it and replace `readSensor` with your own reading.
 *
 *   TESSERA_HUB=ws://127.0.0.1:4000 TESSERA_HUB_IDENTITY=I… TESSERA_ENROLL_TOKEN=… \
 *   INFLUX_URL=http://127.0.0.1:8086 node dist/gateway.js
 */
import { hostname } from 'node:os';
import { startDevice } from '@tessera/device';
import { loadOrCreateIdentity } from '@tessera/secure-channel';

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

// the gateway's identity: made on first start (0600); the hub knows it once it has enrolled
const identity = await loadOrCreateIdentity('.tessera/identity.json');
const enrollToken = process.env['TESSERA_ENROLL_TOKEN']; // needed only until the first enrollment
const hubIdentifier = process.env['TESSERA_HUB_IDENTITY']; // the hub's identifier, printed at its start

const device = await startDevice({
  hub,
  identity,
  ...(enrollToken ? { enrollToken } : {}),
  ...(hubIdentifier ? { hubIdentifier } : {}),
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
