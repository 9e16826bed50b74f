import { defineError, TesseraError } from '@tessera/core';

/** Base of the lease service's errors: `code` is stable, `message` never holds a token. */
export class LeaseError extends TesseraError {
  static override readonly name: string = 'LeaseError';
}

/** A cloud service failed; `status` is the HTTP status when there was one. */
export class CloudError extends LeaseError {
  static override readonly name: string = 'CloudError';
  readonly status: number | undefined;
  constructor(code: string, message: string, status?: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/** The cloud could not be reached or answered 5xx/429: try again later. */
export const CloudUnavailableError = defineError('CloudUnavailableError', 'CLOUD_UNAVAILABLE', CloudError);
export type CloudUnavailableError = InstanceType<typeof CloudUnavailableError>;

/** The cloud refused the request (4xx other than 404): retrying will not help. */
export const CloudRejectedError = defineError('CloudRejectedError', 'CLOUD_REJECTED', CloudError);
export type CloudRejectedError = InstanceType<typeof CloudRejectedError>;

/** The cloud has no such token (404). */
export const CloudNotFoundError = defineError('CloudNotFoundError', 'CLOUD_NOT_FOUND', CloudError);
export type CloudNotFoundError = InstanceType<typeof CloudNotFoundError>;

/** Options given to a cloud service or storage module are invalid. */
export const InvalidOptionsError = defineError('InvalidOptionsError', 'INVALID_OPTIONS', LeaseError);
export type InvalidOptionsError = InstanceType<typeof InvalidOptionsError>;

/** The lease store cannot be reached. */
export const StorageUnavailableError = defineError('StorageUnavailableError', 'STORAGE_UNAVAILABLE', LeaseError);
export type StorageUnavailableError = InstanceType<typeof StorageUnavailableError>;

/** A storage module was used before `init()`. */
export const StorageNotInitialisedError = defineError('StorageNotInitialisedError', 'NOT_INITIALISED', LeaseError);
export type StorageNotInitialisedError = InstanceType<typeof StorageNotInitialisedError>;

/** A lease record (given, or read back from storage) is not a valid record. */
export const InvalidRecordError = defineError('InvalidRecordError', 'INVALID_RECORD', LeaseError);
export type InvalidRecordError = InstanceType<typeof InvalidRecordError>;
