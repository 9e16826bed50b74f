import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Ed25519Identity,
  generateX25519KeyPair,
  identifierOf,
  InsecureIdentityFileError,
  InvalidIdentityFileError,
  isIdentifier,
  loadIdentity,
  loadOrCreateIdentity,
  saveIdentity,
  signStaticKey,
  verifyStaticKeyProof,
  type Signer,
} from '@tessera/secure-channel';

// RFC 8032 §7.1, test 1
const RFC_SECRET = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const RFC_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

describe('identities', () => {
  it('use raw Ed25519 keys (RFC 8032 test 1) and name them I + hex SHA-256 of the public key', async () => {
    const identity = Ed25519Identity.fromPrivateKey(RFC_SECRET);
    expect(Buffer.from(identity.publicKey).toString('hex')).to.equal(RFC_PUBLIC);
    expect(Buffer.from(await identity.sign(new Uint8Array(0))).toString('hex')).to.equal(RFC_SIGNATURE);
    const expected = `I${createHash('sha256').update(Buffer.from(RFC_PUBLIC, 'hex')).digest('hex')}`;
    expect(identity.identifier).to.equal(expected).and.to.have.length(65);
    expect(identifierOf(identity.publicKey)).to.equal(expected);
    expect(isIdentifier(expected)).to.equal(true);
    expect(isIdentifier(expected.toUpperCase())).to.equal(false);
  });

  it('never show the private key when printed', () => {
    const identity = Ed25519Identity.generate();
    const secret = Buffer.from(identity.exportPrivateKey()).toString('base64url');
    expect(JSON.stringify(identity)).to.equal(JSON.stringify({ identifier: identity.identifier }));
    expect(JSON.stringify(identity)).not.to.include(secret);
  });

  describe('static key proof', () => {
    it('verifies for the signed Noise key and identity, and for nothing else', async () => {
      const identity = Ed25519Identity.generate();
      const noiseKey = generateX25519KeyPair().publicKey;
      const proof = await signStaticKey(identity, noiseKey);
      expect(verifyStaticKeyProof(identity.publicKey, noiseKey, proof)).to.equal(true);
      expect(verifyStaticKeyProof(identity.publicKey, generateX25519KeyPair().publicKey, proof)).to.equal(false);
      expect(verifyStaticKeyProof(Ed25519Identity.generate().publicKey, noiseKey, proof)).to.equal(false);
      const bent = Buffer.from(proof);
      bent[10]! ^= 1;
      expect(verifyStaticKeyProof(identity.publicKey, noiseKey, bent)).to.equal(false);
    });

    it('signs exactly the ASCII bytes "tessera.sc.v1 static" and the key', async () => {
      const identity = Ed25519Identity.generate();
      const noiseKey = generateX25519KeyPair().publicKey;
      const proof = await signStaticKey(identity, noiseKey);
      const expected = identity.signSync(Buffer.concat([Buffer.from('tessera.sc.v1 static'), noiseKey]));
      expect(Buffer.from(proof)).to.deep.equal(Buffer.from(expected)); // Ed25519 is deterministic
    });

    it('works with any Signer, such as one backed by a KMS', async () => {
      const inside = Ed25519Identity.generate();
      const requests: Uint8Array[] = [];
      const remote: Signer = {
        publicKey: inside.publicKey,
        sign: async (data) => {
          requests.push(data);
          return inside.signSync(data);
        },
      };
      const noiseKey = generateX25519KeyPair().publicKey;
      const proof = await signStaticKey(remote, noiseKey);
      expect(requests).to.have.length(1);
      expect(verifyStaticKeyProof(inside.publicKey, noiseKey, proof)).to.equal(true);
    });
  });

  describe('identity files', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tessera-identity-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('save with mode 0600, leave no temporary file, and load the same identity', async () => {
      const path = join(dir, 'identity.json');
      const identity = Ed25519Identity.generate();
      await saveIdentity(path, identity);
      expect((await stat(path)).mode & 0o777).to.equal(0o600);
      expect(await readdir(dir)).to.deep.equal(['identity.json']);
      const loaded = await loadIdentity(path);
      expect(loaded.identifier).to.equal(identity.identifier);
      const data = Buffer.from('same key');
      expect(Buffer.from(await loaded.sign(data))).to.deep.equal(Buffer.from(await identity.sign(data)));
    });

    for (const mode of [0o640, 0o604, 0o644]) {
      it(`refuse a file with mode 0${mode.toString(8)}, saying what to do`, async () => {
        const path = join(dir, 'identity.json');
        await saveIdentity(path, Ed25519Identity.generate());
        await chmod(path, mode);
        const err = await loadIdentity(path).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(InsecureIdentityFileError);
        expect((err as InsecureIdentityFileError).code).to.equal('IDENTITY_FILE_INSECURE');
        expect((err as Error).message).to.include('chmod 600');
      });
    }

    it('refuse a file that is not JSON without quoting it', async () => {
      const path = join(dir, 'identity.json');
      const secret = 'SECRET-KEY-MATERIAL';
      await writeFile(path, `{"private_key": "${secret}" oops`, { mode: 0o600 });
      const err = await loadIdentity(path).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(InvalidIdentityFileError);
      expect((err as Error).message).not.to.include(secret);
    });

    it('refuse a file whose public key does not match its private key', async () => {
      const path = join(dir, 'identity.json');
      await saveIdentity(path, Ed25519Identity.generate());
      const file = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
      file.public_key = Buffer.from(Ed25519Identity.generate().publicKey).toString('base64url');
      await writeFile(path, JSON.stringify(file), { mode: 0o600 });
      const err = await loadIdentity(path).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(InvalidIdentityFileError);
      expect((err as InvalidIdentityFileError).code).to.equal('IDENTITY_FILE_INVALID');
    });

    it('load or create: concurrent first runs all end up with the one identity on disk', async () => {
      const path = join(dir, 'identity.json');
      const identities = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(path)));
      const onDisk = await loadIdentity(path);
      expect(new Set(identities.map((i) => i.identifier))).to.deep.equal(new Set([onDisk.identifier]));
      expect(await readdir(dir)).to.deep.equal(['identity.json']);
      expect((await loadOrCreateIdentity(path)).identifier).to.equal(onDisk.identifier);
    });
  });
});
