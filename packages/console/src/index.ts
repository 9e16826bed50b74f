/**
 * @tessera/console: the operator's console. `startConsole` holds a secure
 * channel to a hub as an admin and serves a page (leases, members, expiries,
 * health; revoke, remove, make bootstrap tokens) on loopback; the wire schemas
 * of the hub's `hub_events` worker (docs/protocol.md §8) are shared with the hub.
 */
export * from './protocol/operator-view.js';
export { startConsole, type ConsoleOptions, type RunningConsole } from './start-console.js';
export { HubLink, type HubLinkEvents, type HubLinkOptions, type TokenRequest } from './hub/hub-link.js';
export { applyEvent, emptyView, viewOf, isViewEvent, type LinkState, type ViewEvent, type ViewState } from './view/view-state.js';
