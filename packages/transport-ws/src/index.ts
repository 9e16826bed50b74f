export { WebSocketTransport, type ConnectionInfo, type WsTransportStats } from './ws-transport.js';
export type { WsListener } from './listener.js';
export type { ListenerStats } from './listener-limits.js';
export { CloseCode, Connection } from './connection.js';
export { decodeFrame, encodeFrame, FrameSchema, isFrameShape, PROTOCOL_VERSION, type Frame } from './frame.js';
export { SOCKET_HEADROOM, SUBPROTOCOL, targetUrl, ListenOptionsSchema, WsTransportOptionsSchema, type ListenOptions, type UpgradeHook, type WsTransportOptions } from './options.js';
export type { ConnectionStatus } from './status.js';
export { routeTo } from './route-to.js';
