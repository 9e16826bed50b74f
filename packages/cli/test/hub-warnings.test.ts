// What a hub's configuration warns about: at start (its log) and in /health.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { LeaseService, memoryStorage, ttlPolicy } from '@tessera/token-lease';
import { HubConfigSchema } from '../src/hub/hub-config.js';
import { configWarnings, hubHealth, MEMBERS_IN_MEMORY_WARNING } from '../src/hub/metrics.js';
import { start } from './cli-helpers.js';

const WARNING = 'members are kept in memory only: a restart forgets every member';

describe('a secure hub whose members live in memory only says so', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tessera-hub-warnings-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('warns for --storage memory on a secure hub only: not with a snapshot file, not on Redis, not when insecure (which warns of itself)', () => {
    const warnings = (config: object) => configWarnings(HubConfigSchema.parse(config));
    expect(MEMBERS_IN_MEMORY_WARNING).to.equal(WARNING);
    expect(warnings({})).to.deep.equal([WARNING]);
    expect(warnings({ storage: 'memory' })).to.deep.equal([WARNING]);
    expect(warnings({ storage: `memory:${join(dir, 'hub.json')}` })).to.deep.equal([]);
    expect(warnings({ storage: 'redis://127.0.0.1:6379' })).to.deep.equal([]);
    expect(warnings({ insecure: true })).to.deep.equal([]);
  });

  it('/health carries the warnings it is given for a secure hub', () => {
    const storage = memoryStorage();
    const service = new LeaseService({ cloud: influxdbV2({ url: 'http://127.0.0.1:9', token: 't', org: 'o' }), storage, policy: ttlPolicy() });
    const health = hubHealth(service, 'd', { insecure: false, identity: 'I1', warnings: [WARNING] }) as { insecure: boolean; identity: string; warnings: string[] };
    expect(health).to.include({ insecure: false, identity: 'I1' });
    expect(health.warnings).to.deep.equal([WARNING]);
    expect(hubHealth(service, 'd', { insecure: false, identity: 'I1' })).to.not.have.property('warnings');
  });

  it('tessera hub logs the warning at start with the default storage, and not with a snapshot file', async () => {
    const started = async (extra: string[]) => {
      const hub = await start(['hub', '--listen', '127.0.0.1:0', '--identity', join(dir, 'hub.json'), '--log-level', 'warn', ...extra], 'listening on');
      await hub.stop();
      return hub.stderr()
        .split('\n')
        .filter((line) => line.includes(WARNING));
    };
    const warned = await started([]);
    expect(warned).to.have.length(1);
    expect(JSON.parse(warned[0]!)).to.include({ level: 40, msg: WARNING, storage: 'memory' });
    expect(await started(['--storage', `memory:${join(dir, 'leases.json')}`])).to.deep.equal([]);
  });
});
