import { defineError } from '@tessera/core';
import { SecureChannelError } from './errors.js';

/** The peer did not finish the handshake within the timeout. */
export const HandshakeTimeoutError = defineError('HandshakeTimeoutError', 'HANDSHAKE_TIMEOUT', SecureChannelError);
export type HandshakeTimeoutError = InstanceType<typeof HandshakeTimeoutError>;
/** The channel is closed (by either side): nothing more goes through it. */
export const ChannelClosedError = defineError('ChannelClosedError', 'CHANNEL_CLOSED', SecureChannelError);
export type ChannelClosedError = InstanceType<typeof ChannelClosedError>;
/** The first handshake message could not be sent (no route to the listener). */
export const HandshakeUnreachableError = defineError('HandshakeUnreachableError', 'HANDSHAKE_UNREACHABLE', SecureChannelError);
export type HandshakeUnreachableError = InstanceType<typeof HandshakeUnreachableError>;
