import type { Message } from '@tessera/core';
import { MAX_CREDENTIAL_LENGTH } from '@tessera/secure-channel';
import { z } from 'zod';
import { decodeResponse } from './json-response.js';

/** The LOCAL address of the authority worker on a hub (docs/protocol.md §6). */
export const AUTHORITY_WORKER = 'authority';

const Credential = z.string().min(1).max(MAX_CREDENTIAL_LENGTH);
const CredentialFieldsSchema = z.looseObject({ credential: Credential });
const EnrolledFieldsSchema = z.looseObject({
  identifier: z.string(),
  attributes: z.record(z.string(), z.string()),
  credential: Credential,
});

/** What a redeemed bootstrap token made of us. */
export interface Enrolled {
  identifier: string;
  attributes: Readonly<Record<string, string>>;
  credential: string;
}

/**
 * The member's side of the authority worker (docs/protocol.md §6): a fresh
 * credential, or enrollment with a bootstrap token. `send` carries one JSON
 * request to the authority through a secure channel. Failures throw as
 * HubApi's do (LeaseRejectedError with the hub's code, LeaseUnavailableError);
 * neither the token nor a credential ever appears in an error.
 */
export class AuthorityApi {
  constructor(private readonly send: (body: string) => Promise<Message>) {}

  /** A fresh credential; `not_allowed` (LeaseRejectedError) when this identity is not a member. */
  async credential(): Promise<string> {
    const reply = await this.send(JSON.stringify({ action: 'credential' }));
    return decodeResponse(reply.payload, 'credential', 'authority', CredentialFieldsSchema).credential;
  }

  /** Redeems `token`: this identity becomes a member; `not_allowed` when the token is refused. */
  async enroll(token: string): Promise<Enrolled> {
    const reply = await this.send(JSON.stringify({ action: 'enroll', token }));
    const { identifier, attributes, credential } = decodeResponse(reply.payload, 'enroll', 'authority', EnrolledFieldsSchema);
    return { identifier, attributes, credential };
  }
}
