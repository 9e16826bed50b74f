/** Close codes of RFC 6455 that docs/protocol.md §3 uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  messageTooBig: 1009,
} as const;
