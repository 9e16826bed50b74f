import { Command } from 'commander';
import { type HubConfig, HubConfigSchema } from './hub/hub-config.js';
import { configWarnings } from './hub/metrics.js';
import { startHub } from './hub/start-hub.js';
import { cliLogger } from './logger.js';
import { resolveSettings, type SettingSpec } from './settings/resolve.js';
import { onShutdownSignal } from './shutdown.js';

/** The hub's settings: key, flag, env variable. */
export const HUB_SETTINGS: readonly SettingSpec[] = [
  { key: 'listen', flag: 'listen', env: 'TESSERA_LISTEN' },
  { key: 'storage', flag: 'storage', env: 'TESSERA_STORAGE' },
  { key: 'cloud', flag: 'cloud', env: 'TESSERA_CLOUD' },
  { key: 'influxUrl', flag: 'influx-url', env: 'INFLUX_URL' },
  { key: 'influxOrg', flag: 'influx-org', env: 'INFLUX_ORG' },
  { key: 'influxBucket', flag: 'influx-bucket', env: 'INFLUX_BUCKET' },
  { key: 'grants', flag: 'grants', env: 'TESSERA_GRANTS', parse: parseJson },
  { key: 'maxLeasesPerOwner', flag: 'max-leases-per-owner', env: 'TESSERA_MAX_LEASES_PER_OWNER' },
  { key: 'createsPerMinute', flag: 'creates-per-minute', env: 'TESSERA_CREATES_PER_MINUTE' },
  { key: 'ownerConcurrency', flag: 'owner-concurrency', env: 'TESSERA_OWNER_CONCURRENCY' },
  { key: 'identityRequestRate', flag: 'identity-request-rate', env: 'TESSERA_IDENTITY_REQUEST_RATE' },
  { key: 'defaultTtl', flag: 'default-ttl', env: 'TESSERA_DEFAULT_TTL' },
  { key: 'minTtl', flag: 'min-ttl', env: 'TESSERA_MIN_TTL' },
  { key: 'maxTtl', flag: 'max-ttl', env: 'TESSERA_MAX_TTL' },
  { key: 'metrics', flag: 'metrics', env: 'TESSERA_METRICS' },
  { key: 'insecure', flag: 'insecure', env: 'TESSERA_INSECURE' },
  // TESSERA_IDENTITY is a device's own identity file: the hub's has a name of its own
  { key: 'identity', flag: 'identity', env: 'TESSERA_HUB_IDENTITY_FILE' },
  { key: 'admin', flag: 'admin', env: 'TESSERA_ADMIN', parse: parseList },
  { key: 'credentialTtl', flag: 'credential-ttl', env: 'TESSERA_CREDENTIAL_TTL' },
  // no flag (a list of rules is for a file); TESSERA_POLICIES takes it as JSON
  { key: 'policies', flag: 'policies', env: 'TESSERA_POLICIES', parse: parseJson },
  { key: 'forward', flag: 'forward', env: 'TESSERA_FORWARD' },
  { key: 'address', flag: 'address', env: 'TESSERA_ADDRESS' },
  { key: 'logLevel', flag: 'log-level', env: 'TESSERA_LOG_LEVEL' },
  { key: 'deployment', flag: 'deployment', env: 'TESSERA_DEPLOYMENT' },
  { key: 'adoptLegacyTokens', flag: 'adopt-legacy-tokens', env: 'TESSERA_ADOPT_LEGACY_TOKENS' },
  { key: 'orphanGrace', flag: 'orphan-grace', env: 'TESSERA_ORPHAN_GRACE' },
  { key: 'reconcileEvery', flag: 'reconcile-every', env: 'TESSERA_RECONCILE_EVERY' },
  { key: 'maxConnections', flag: 'max-connections', env: 'TESSERA_MAX_CONNECTIONS' },
  { key: 'maxMessageSize', flag: 'max-message-size', env: 'TESSERA_MAX_MESSAGE_SIZE' },
  { key: 'handshakeTimeout', flag: 'handshake-timeout', env: 'TESSERA_HANDSHAKE_TIMEOUT' },
  { key: 'slowPeerTimeout', flag: 'slow-peer-timeout', env: 'TESSERA_SLOW_PEER_TIMEOUT' },
  { key: 'livenessTimeout', flag: 'liveness-timeout', env: 'TESSERA_LIVENESS_TIMEOUT' },
];

/** What commander hands the hub's action: the flags given (switches as `true` or their text), `--config` and `--profile`. */
export type HubCommandOptions = Record<string, unknown> & { config?: string; profile?: string };

/** The hub's configuration from its flags, env and config file (a SettingsError names a bad field as the user wrote it). */
export function resolveHubConfig(opts: HubCommandOptions, env: NodeJS.ProcessEnv): HubConfig {
  return resolveSettings(HubConfigSchema, HUB_SETTINGS, {
    cli: opts,
    env,
    configPath: opts.config ?? env['TESSERA_CONFIG'],
    profile: opts.profile ?? env['TESSERA_PROFILE'],
  });
}

/** `tessera hub`: a WebSocket listener, the echo worker, and token_lease over the configured cloud and storage. */
export function hubCommand(): Command {
  return new Command('hub')
    .description('start a hub: WebSocket listener, echo worker, token_lease over the configured cloud and storage')
    .option('--listen <host:port>', 'where the WebSocket listener binds [TESSERA_LISTEN] (default 127.0.0.1:4000)')
    .option('--storage <spec>', 'memory | memory:<snapshot file> | redis://host:port/db | redis+cluster://h:p,h:p,... | redis+sentinel://h:p,.../<master> (password: REDIS_PASSWORD) [TESSERA_STORAGE] (default memory)')
    .option('--cloud <module>', 'influxdb-v2 | influxdb-v1 [TESSERA_CLOUD] (default influxdb-v2)')
    .option('--influx-url <url>', 'InfluxDB URL; none: an influxdb-local starts in-process [INFLUX_URL]; operator token from INFLUX_TOKEN')
    .option('--influx-org <org>', 'InfluxDB organization [INFLUX_ORG] (default tessera)')
    .option('--influx-bucket <bucket>', 'bucket leases may write to [INFLUX_BUCKET] (default tessera)')
    .option('--grants <json>', 'what else a lease may ask for: [{"bucket":"b","actions":["read","write"]}] [TESSERA_GRANTS] (default none)')
    .option('--max-leases-per-owner <n>', 'leases one owner may hold at once, 0 no limit [TESSERA_MAX_LEASES_PER_OWNER] (default 100)')
    .option('--creates-per-minute <n>', 'creates one owner may make per minute, 0 no limit [TESSERA_CREATES_PER_MINUTE] (default 60)')
    .option('--owner-concurrency <n>', "one owner's requests handled at once [TESSERA_OWNER_CONCURRENCY] (default 8)")
    .option('--identity-request-rate <n>', 'requests one identity may send per second (burst twice that), 0 no limit [TESSERA_IDENTITY_REQUEST_RATE] (default 100)')
    .option('--default-ttl <ms>', 'TTL of a lease that names none [TESSERA_DEFAULT_TTL] (default 3600000)')
    .option('--min-ttl <ms>', 'smallest TTL a request may name [TESSERA_MIN_TTL] (default 1000)')
    .option('--max-ttl <ms>', 'longest a lease may live, renewals included [TESSERA_MAX_TTL] (default 86400000)')
    .option('--metrics <host:port>', 'serve /health and Prometheus /metrics there [TESSERA_METRICS]')
    .option('--insecure [bool]', 'accept anonymous callers, who share one owner and see all leases (development only) [TESSERA_INSECURE]')
    .option('--identity <file>', "the hub's identity file, created on first start [TESSERA_HUB_IDENTITY_FILE] (default hub-identity.json in $TESSERA_STATE_DIR, else $XDG_STATE_HOME/tessera)")
    .option('--admin <identifier>', 'an admin identity (I…), repeatable or comma-separated [TESSERA_ADMIN] (default none)', collectList)
    .option('--credential-ttl <ms>', "lifetime of the members' credentials the hub issues [TESSERA_CREDENTIAL_TTL] (default 3600000, at most 604800000: 7 days)")
    .option('--forward [bool]', "let peers' messages hop on to other WS addresses through this hub [TESSERA_FORWARD] (default off)")
    .option('--address <name>', 'LOCAL address of the lease worker [TESSERA_ADDRESS] (default token_lease)')
    .option('--log-level <level>', 'debug | info | warn | error | silent [TESSERA_LOG_LEVEL] (default info)')
    .option('--deployment <name>', 'whose tokens this hub makes and sweeps for orphans [TESSERA_DEPLOYMENT] (default derived from --storage)')
    .option('--adopt-legacy-tokens [bool]', 'also sweep tokens made before deployments existed [TESSERA_ADOPT_LEGACY_TOKENS] (default off)')
    .option('--orphan-grace <ms>', 'age below which a token without a lease is not yet an orphan [TESSERA_ORPHAN_GRACE] (default 30000)')
    .option('--reconcile-every <ms>', 'how often to sweep the cloud for tokens without a lease (orphans), besides at start [TESSERA_RECONCILE_EVERY] (default 300000)')
    .addHelpText('after', '\nA switch (--insecure, --forward, --adopt-legacy-tokens) alone is on; with a value, and in env and config files, it takes\ntrue/false, yes/no, on/off or 1/0 and nothing else.')
    .option('--max-connections <n>', 'WebSocket connections at once; one more is refused with HTTP 503 [TESSERA_MAX_CONNECTIONS] (default 4096)')
    .option('--max-message-size <bytes>', 'largest message a peer may send [TESSERA_MAX_MESSAGE_SIZE] (default 262144)')
    .option('--handshake-timeout <ms>', 'time a TCP connection has to finish its upgrade [TESSERA_HANDSHAKE_TIMEOUT] (default 10000)')
    .option('--slow-peer-timeout <ms>', 'time a peer may leave what it is sent unread before it is dropped [TESSERA_SLOW_PEER_TIMEOUT] (default 30000)')
    .option('--liveness-timeout <ms>', 'time a peer may stay silent (no message, ping or pong; pinged every third of it) before it is closed [TESSERA_LIVENESS_TIMEOUT] (default 30000)')
    .option('--config <file>', 'JSON or YAML config file [TESSERA_CONFIG]')
    .option('--profile <name>', 'profile of the config file to use [TESSERA_PROFILE]')
    .action(async (opts: HubCommandOptions) => {
      const config = resolveHubConfig(opts, process.env);
      const logger = cliLogger(config.logLevel, 'tessera-hub');
      if (config.insecure) logger.warn({}, 'insecure: anonymous callers share one owner and see every lease; for development only');
      for (const warning of configWarnings(config)) logger.warn({ storage: config.storage }, warning);
      const hub = await startHub(config, logger);
      const lines = [`tessera hub listening on ${hub.listener.url}`, `lease worker: 0#${config.address} (storage ${describeStorage(config.storage)}, cloud ${config.cloud}, deployment ${hub.deployment})`];
      if (hub.secure) lines.push(`identity: ${hub.secure.identifier} (${hub.secure.identityPath})`);
      if (hub.influx) lines.push(`influxdb-local: ${hub.influx.url} org=${hub.influx.org} bucket=${hub.influx.bucket} (in-process)`);
      if (hub.metricsUrl) lines.push(`metrics: ${hub.metricsUrl}/metrics, health: ${hub.metricsUrl}/health`);
      // before saying it listens: whoever reads that may stop it at once
      onShutdownSignal(() => hub.stop());
      process.stdout.write(lines.join('\n') + '\n');
    });
}

/** JSON from a flag or env variable; text that is not JSON is left for the schema to refuse. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A comma-separated list (TESSERA_ADMIN); empty items dropped. */
function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Commander's collector for a repeatable flag that also takes comma-separated lists. */
function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...parseList(value)];
}

/** The storage setting without a password. */
export function describeStorage(spec: string): string {
  // everything between // and the last @ before the host (a password may hold @ itself)
  return spec.replace(/\/\/[^/?#]*@/, '//***@');
}
