/**
 * @tessera/relay: relays (Ockam's forwarders). A node behind NAT registers a
 * name at the hub (createRelay); the hub's RelayService starts a forwarder at
 * `forward_to_<name>`, and anyone who reaches the hub reaches the node's
 * workers at `[3#hub:4000, 0#forward_to_<name>, 0#<worker>]`. Secure channels
 * run end to end through it: the hub relays ciphertext only.
 */
export { RelayService, type RelayServiceOptions, type RelayServiceStats, type RelayMembership } from './relay-service.js';
export { Forwarder, FORWARDER_ACCESS, type ForwarderDrop, type ForwarderHost } from './forwarder.js';
export { SenderShares, MESSAGE_OVERHEAD } from './sender-share.js';
export { createRelay, Relay, type CreateRelayOptions, type RelayEvents } from './relay-client.js';
export { RELAY_NAME_PATTERN, RELAY_ATTRIBUTE, FORWARDER_PREFIX, checkRelayName, forwarderName, isRelayName, nameAllowed } from './relay-name.js';
export { RELAY_SERVICE, RELAY_FAILURE_CODES, RelayRequestSchema, CreatedSchema, AttachedSchema, DeletedSchema, type RelayFailureCode, type RelayRequest } from './relay-protocol.js';
export { RelayError, InvalidRelayOptionsError, RelayClosedError } from './errors.js';
