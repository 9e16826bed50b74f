import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import {
  BadSignatureError,
  CredentialError,
  CredentialExpiredError,
  CredentialNotYetValidError,
  Ed25519Identity,
  identifierOf,
  issueCredential,
  MalformedCredentialError,
  trustedAuthorities,
  UnknownIssuerError,
  verifyCredential,
  WrongSubjectError,
} from '@tessera/secure-channel';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const clockAt = (ms: number) => ({ now: () => ms });

const authority = Ed25519Identity.generate();
const subject = Ed25519Identity.generate().identifier;
const authorities = trustedAuthorities([authority.publicKey]);
const jwk = (key: Uint8Array) => ({ kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key).toString('base64url') });

function issue(ttlSeconds = 3600, at = NOW) {
  return issueCredential({ authority, subject, attributes: { role: 'device', bucket: 'metrics' }, ttlSeconds, clock: clockAt(at) });
}

function refusal(f: () => unknown): CredentialError {
  try {
    f();
  } catch (err) {
    expect(err).to.be.instanceOf(CredentialError);
    return err as CredentialError;
  }
  throw new Error('expected the credential to be refused');
}

describe('credentials (compact EdDSA JWS)', () => {
  it('verify when issued by a trusted authority for the expected subject', async () => {
    const credential = await issue();
    const verified = verifyCredential(credential, { authorities, subject, clock: clockAt(NOW + 1000) });
    expect(verified).to.deep.equal({
      issuer: authority.identifier,
      subject,
      issuedAt: NOW / 1000,
      expiresAt: NOW / 1000 + 3600,
      attributes: { role: 'device', bucket: 'metrics' },
    });
  });

  it('ours verify with jose’s jwtVerify given the authority’s public key as a JWK', async () => {
    const credential = await issue();
    const key = await importJWK(jwk(authority.publicKey), 'EdDSA');
    const { payload, protectedHeader } = await jwtVerify(credential, key, {
      algorithms: ['EdDSA'],
      issuer: authority.identifier,
      subject,
      currentDate: new Date(NOW + 1000),
    });
    expect(protectedHeader.alg).to.equal('EdDSA');
    expect(payload).to.deep.include({ iss: authority.identifier, sub: subject, attrs: { role: 'device', bucket: 'metrics' } });
  });

  it('jose’s (SignJWT, EdDSA) verify with ours', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const iat = NOW / 1000;
    const credential = await new SignJWT({ attrs: { role: 'admin' } })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(identifierOf(raw))
      .setSubject(subject)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .sign(privateKey);
    const verified = verifyCredential(credential, { authorities: trustedAuthorities([raw]), subject, clock: clockAt(NOW) });
    expect(verified.attributes).to.deep.equal({ role: 'admin' });
    expect(verified.issuer).to.equal(identifierOf(raw));
  });

  it('are refused once expired (now = exp), with code CREDENTIAL_EXPIRED', async () => {
    const credential = await issue(60);
    expect(verifyCredential(credential, { authorities, subject, clock: clockAt(NOW + 59_999) }).subject).to.equal(subject);
    const err = refusal(() => verifyCredential(credential, { authorities, subject, clock: clockAt(NOW + 60_000) }));
    expect(err).to.be.instanceOf(CredentialExpiredError);
    expect(err.code).to.equal('CREDENTIAL_EXPIRED');
  });

  it('are accepted up to 60 s before iat, and refused earlier, with code CREDENTIAL_NOT_YET_VALID', async () => {
    const credential = await issue(3600, NOW + 120_000);
    expect(verifyCredential(credential, { authorities, subject, clock: clockAt(NOW + 60_000) }).subject).to.equal(subject);
    const err = refusal(() => verifyCredential(credential, { authorities, subject, clock: clockAt(NOW + 59_999) }));
    expect(err).to.be.instanceOf(CredentialNotYetValidError);
    expect(err.code).to.equal('CREDENTIAL_NOT_YET_VALID');
  });

  it('are refused for another subject, with code CREDENTIAL_WRONG_SUBJECT', async () => {
    const credential = await issue();
    const err = refusal(() => verifyCredential(credential, { authorities, subject: Ed25519Identity.generate().identifier, clock: clockAt(NOW) }));
    expect(err).to.be.instanceOf(WrongSubjectError);
    expect(err.code).to.equal('CREDENTIAL_WRONG_SUBJECT');
  });

  it('are refused from an issuer that is not trusted, with code CREDENTIAL_UNKNOWN_ISSUER', async () => {
    const credential = await issue();
    const others = trustedAuthorities([Ed25519Identity.generate().publicKey]);
    const err = refusal(() => verifyCredential(credential, { authorities: others, subject, clock: clockAt(NOW) }));
    expect(err).to.be.instanceOf(UnknownIssuerError);
    expect(err.code).to.equal('CREDENTIAL_UNKNOWN_ISSUER');
  });

  it('are refused when tampered: claims changed, or signature changed, with code CREDENTIAL_BAD_SIGNATURE', async () => {
    const [header, claims, signature] = (await issue()).split('.') as [string, string, string];
    const changed = JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>;
    changed.attrs = { role: 'admin', bucket: 'metrics' };
    const forged = `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`;
    const err = refusal(() => verifyCredential(forged, { authorities, subject, clock: clockAt(NOW) }));
    expect(err).to.be.instanceOf(BadSignatureError);
    expect(err.code).to.equal('CREDENTIAL_BAD_SIGNATURE');
    const sig = Buffer.from(signature, 'base64url');
    sig[5]! ^= 1;
    const bent = `${header}.${claims}.${sig.toString('base64url')}`;
    expect(refusal(() => verifyCredential(bent, { authorities, subject, clock: clockAt(NOW) }))).to.be.instanceOf(BadSignatureError);
  });

  it('signed by a trusted key but naming another trusted issuer are refused', async () => {
    const second = Ed25519Identity.generate();
    const both = trustedAuthorities([authority.publicKey, second.publicKey]);
    const [header, claims] = (await issue()).split('.') as [string, string, string];
    const changed = { ...(JSON.parse(Buffer.from(claims, 'base64url').toString()) as object), iss: second.identifier };
    const input = `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}`;
    const forged = `${input}.${Buffer.from(authority.signSync(Buffer.from(input))).toString('base64url')}`;
    expect(refusal(() => verifyCredential(forged, { authorities: both, subject, clock: clockAt(NOW) }))).to.be.instanceOf(BadSignatureError);
  });

  const malformed: [string, (parts: string[]) => string][] = [
    ['alg none', ([, c]) => `${b64({ alg: 'none' })}.${c}.`],
    ['alg HS256', ([, c, s]) => `${b64({ alg: 'HS256' })}.${c}.${s}`],
    ['a critical header', ([, c, s]) => `${b64({ alg: 'EdDSA', crit: ['exp'] })}.${c}.${s}`],
    ['two segments', ([h, c]) => `${h}.${c}`],
    ['a character outside base64url', ([h, c, s]) => `${h}.${c}+.${s}`],
    ['claims that are not JSON', ([h, , s]) => `${h}.${Buffer.from('{nope').toString('base64url')}.${s}`],
    ['attrs with a number', ([h, , s]) => `${h}.${b64({ iss: authority.identifier, sub: subject, iat: 1, exp: 2, attrs: { n: 1 } })}.${s}`],
    ['no exp', ([h, , s]) => `${h}.${b64({ iss: authority.identifier, sub: subject, iat: 1, attrs: {} })}.${s}`],
    ['an oversized token', ([h, c, s]) => `${h}.${c}${'A'.repeat(9000)}.${s}`],
  ];
  for (const [what, make] of malformed) {
    it(`are refused as malformed with ${what}, with code CREDENTIAL_MALFORMED`, async () => {
      const token = make((await issue()).split('.'));
      const err = refusal(() => verifyCredential(token, { authorities, subject, clock: clockAt(NOW) }));
      expect(err).to.be.instanceOf(MalformedCredentialError);
      expect(err.code).to.equal('CREDENTIAL_MALFORMED');
    });
  }

  it('issue only about an identifier, for a positive whole number of seconds', async () => {
    const base = { authority, attributes: {}, clock: clockAt(NOW) };
    await issueCredential({ ...base, subject: 'not-an-identifier', ttlSeconds: 60 }).then(
      () => expect.fail('issued'),
      (err: unknown) => expect(err).to.be.instanceOf(MalformedCredentialError),
    );
    await issueCredential({ ...base, subject, ttlSeconds: 0 }).then(
      () => expect.fail('issued'),
      (err: unknown) => expect(err).to.be.instanceOf(MalformedCredentialError),
    );
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
