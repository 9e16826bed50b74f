import { TesseraError } from '@tessera/core';

/** The error codes InfluxDB puts in `{"code","message"}` bodies and `X-Platform-Error-Code`. */
export type ErrorCode =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not found'
  | 'conflict'
  | 'unprocessable entity'
  | 'method not allowed'
  | 'request too large'
  | 'unsupported media type'
  | 'too many requests'
  | 'unavailable'
  | 'internal error';

const STATUS: Record<ErrorCode, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  'not found': 404,
  'method not allowed': 405,
  conflict: 422,
  'unprocessable entity': 422,
  'request too large': 413,
  'unsupported media type': 415,
  'too many requests': 429,
  unavailable: 503,
  'internal error': 500,
};

/** An error answered to the client as InfluxDB would: status from the code, body `{"code","message"}`. */
export class ApiError extends TesseraError {
  static override readonly name: string = 'ApiError';
  declare readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.status = STATUS[code];
  }

  static invalid(message: string): ApiError {
    return new ApiError('invalid', message);
  }

  static notFound(message: string): ApiError {
    return new ApiError('not found', message);
  }

  /** The 401 InfluxDB answers for a missing, unknown or deleted token. */
  static unauthorizedAccess(): ApiError {
    return new ApiError('unauthorized', 'unauthorized access');
  }

  toBody(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
