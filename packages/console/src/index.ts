/**
 * @tessera/console: the operator's console. The wire schemas of a hub's
 * `hub_events` worker (docs/protocol.md §7), shared by the hub that sends them
 * and the console that reads them.
 */
export * from './protocol/operator-view.js';
