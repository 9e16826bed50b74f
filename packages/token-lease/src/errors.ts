/** Base of the lease service's errors: `code` is stable, `message` never holds a token. */
export class LeaseError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'LeaseError';
  }
}

/** A cloud service failed; `status` is the HTTP status when there was one. */
export class CloudError extends LeaseError {
  readonly status: number | undefined;
  constructor(code: string, message: string, status?: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/** The cloud could not be reached or answered 5xx/429: try again later. */
export class CloudUnavailableError extends CloudError {
  static override readonly name = 'CloudUnavailableError';
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super('CLOUD_UNAVAILABLE', message, status, options);
    this.name = CloudUnavailableError.name;
  }
}

/** The cloud refused the request (4xx other than 404): retrying will not help. */
export class CloudRejectedError extends CloudError {
  static override readonly name = 'CloudRejectedError';
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super('CLOUD_REJECTED', message, status, options);
    this.name = CloudRejectedError.name;
  }
}

/** The cloud has no such token (404). */
export class CloudNotFoundError extends CloudError {
  static override readonly name = 'CloudNotFoundError';
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super('CLOUD_NOT_FOUND', message, status, options);
    this.name = CloudNotFoundError.name;
  }
}

/** Options given to a cloud service or storage module are invalid. */
export class InvalidOptionsError extends LeaseError {
  static override readonly name = 'InvalidOptionsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_OPTIONS', message, options);
    this.name = InvalidOptionsError.name;
  }
}

/** The lease store cannot be reached. */
export class StorageUnavailableError extends LeaseError {
  static override readonly name = 'StorageUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE_UNAVAILABLE', message, options);
    this.name = StorageUnavailableError.name;
  }
}
