/** One thing that happened in the demo, as the views show it (never a token value). */
export interface DemoEvent {
  /** Milliseconds since the demo started. */
  at: number;
  source: 'hub' | 'demo' | string;
  text: string;
  kind: 'issued' | 'renewed' | 'expired' | 'revoked' | 'auth-failure' | 'swapped' | 'outside' | 'secure' | 'info';
}

export interface DeviceRow {
  id: string;
  /** Its identity's identifier (the owner of its leases), whole: views shorten it. */
  identifier: string;
  lease: string;
  expires: number | undefined;
  written: number;
  /** 401s (token gone) and 403s (token inactive) the device met. */
  met401: number;
  met403: number;
  leases: number;
  lost: number;
}

export interface DemoSnapshot {
  elapsed: number;
  hubUrl: string;
  influxUrl: string;
  devices: DeviceRow[];
  hub: { issued: number; renewed: number; expired: number; revokedOnRequest: number; outside: number; deactivated: number; latenessP99: number };
  /** The hub's identifier, members enrolled, secure channels open now and opened in all. */
  secure: { hub: string; enrolled: number; channelsOpen: number; channelsOpened: number };
  recent: DemoEvent[];
}

export interface DemoSummary {
  seconds: number;
  /** Devices that joined the hub with a one-use bootstrap token (each its own identity). */
  devicesEnrolled: number;
  /** Secure channels the hub accepted (devices' and the operator's); every lease request came through one. */
  secureChannels: number;
  /** What the hub answered a lease request sent without a channel (its failure code). */
  plaintextRefused: string;
  leasesIssued: number;
  leasesRenewed: number;
  leasesRevoked: number;
  leasesExpired: number;
  /** Leases the operator revoked through the hub: the next write with one meets a 401. */
  revokedFromOutside: number;
  /** Tokens the operator set inactive in InfluxDB: the next write with one meets a 403. */
  deactivatedInInfluxdb: number;
  /** 401 answers the devices met (each reported, replaced, replayed). */
  met401: number;
  /** 403 answers the devices met. */
  met403: number;
  pointsWritten: number;
  pointsInInfluxdb: number;
  pointsLost: number;
}

/** A short, safe form of a lease id or an identifier for the screen. */
export function shortId(id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
