import { expect } from 'chai';
import { defineError, TesseraError, TimeoutError } from '@tessera/core';

/** A family whose code varies per throw, with a field of its own. */
class HttpFamilyError extends TesseraError {
  static override readonly name = 'HttpFamilyError';
  constructor(
    code: string,
    message: string,
    readonly status?: number,
  ) {
    super(code, message);
  }
}
const GoneError = defineError('GoneError', 'GONE', HttpFamilyError);

describe('error classes', () => {
  it('a defined error has its name, code and static code, and is a TesseraError', () => {
    const err = new TimeoutError('no reply in 5 ms');
    expect(err).to.be.instanceOf(TimeoutError).and.instanceOf(TesseraError).and.instanceOf(Error);
    expect([err.name, err.code, TimeoutError.name, TimeoutError.code]).to.deep.equal(['TimeoutError', 'TIMEOUT', 'TimeoutError', 'TIMEOUT']);
    expect(String(err)).to.equal('TimeoutError: no reply in 5 ms');
  });

  it('an error defined below a family keeps its instanceof chain and the family constructor without the code', () => {
    const err = new GoneError('no such token', 404);
    expect(err).to.be.instanceOf(GoneError).and.instanceOf(HttpFamilyError).and.instanceOf(TesseraError);
    expect([err.name, err.code, err.status]).to.deep.equal(['GoneError', 'GONE', 404]);
    expect(new HttpFamilyError('TEAPOT', 'short and stout').name).to.equal('HttpFamilyError');
  });

  it('a subclass of a defined error adds fields and keeps the code', () => {
    class RetriedError extends defineError('RetriedError', 'RETRIED') {
      constructor(readonly attempts: number, options?: { cause?: unknown }) {
        super(`gave up after ${attempts} attempts`, options);
      }
    }
    const cause = new Error('down');
    const err = new RetriedError(3, { cause });
    expect([err.name, err.code, err.attempts, err.cause]).to.deep.equal(['RetriedError', 'RETRIED', 3, cause]);
  });
});
