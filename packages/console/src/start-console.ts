import type { AddressInfo } from 'node:net';
import type { Logger } from '@tessera/core';
import type { Signer } from '@tessera/secure-channel';
import { HubLink } from './hub/hub-link.js';
import { consoleServer } from './http/console-server.js';
import { EventStreams } from './http/event-stream.js';
import { Logins, sessionCookie } from './http/logins.js';
import { allowedHosts } from './http/request-guard.js';
import { DEFAULT_PAGE_DIR, loadPage } from './http/static-files.js';
import { applyEvent, emptyView, isViewEvent, type LinkState, viewOf, type ViewState } from './view/view-state.js';

export interface ConsoleOptions {
  /** The hub: ws://host:port, host:port or a route. */
  hub: string;
  /** The admin's identity (the browser never holds a key). */
  identity: Signer;
  /** Trust only this hub identifier. */
  hubIdentifier?: string | undefined;
  /** Where the page is served (default 127.0.0.1, port 8080; port 0: any free one). */
  host?: string;
  port?: number;
  /** Called with each next login link after one is used (the first is `loginUrl`). */
  onLoginLink?: (url: string) => void;
  /** Where the built page is (default: this package's dist/page). */
  pageDir?: string;
  logger: Logger;
}

/** A running console. */
export interface RunningConsole {
  /** The page's address. */
  url: string;
  /** The one-time login link: a secret, for the operator's eyes (not for logs). */
  readonly loginUrl: string;
  /** Whether the page was built (`npm run build`). */
  pageBuilt: boolean;
  link: HubLink;
  stop(): Promise<void>;
}

/**
 * `tessera console`: a local process that holds a secure channel to the hub
 * as an admin (HubLink) and serves the operator's page and its API over HTTP
 * on loopback by default (consoleServer). The view the pages see is kept here
 * with the same reducer the page uses, and each change is pushed to them.
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  const logins = new Logins();
  const streams = new EventStreams();
  const page = await loadPage(options.pageDir ?? DEFAULT_PAGE_DIR);
  const link = new HubLink({ hub: options.hub, identity: options.identity, hubIdentifier: options.hubIdentifier, logger: options.logger });
  let linkState: LinkState = { hub: null, connected: false, problem: 'connecting to the hub' };
  let view: ViewState = emptyView(linkState, Date.now());
  link.on('snapshot', ({ snapshot }) => {
    view = viewOf(snapshot, linkState, Date.now());
    streams.send('view', view);
  });
  link.on('event', (event) => {
    if (!isViewEvent(event)) return;
    view = applyEvent(view, event);
    streams.send('event', event);
  });
  link.on('link', (state) => {
    linkState = state;
    view = { ...view, link: state };
    streams.send('link', state);
  });
  let port = options.port ?? 8080;
  let hosts = allowedHosts(host, port);
  let loginUrl = '';
  const base = () => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const server = consoleServer({
    logins,
    streams,
    page,
    actions: link,
    view: () => ({ ...view, serverNow: Date.now() }),
    hosts: () => hosts,
    cookie: () => sessionCookie(port),
    onLogin: () => {
      loginUrl = `${base()}/login?token=${logins.token}`;
      options.onLoginLink?.(loginUrl);
    },
    logger: options.logger,
  });
  const stop = async () => {
    streams.close();
    server.closeAllConnections();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await link.stop();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    hosts = allowedHosts(host, port);
    loginUrl = `${base()}/login?token=${logins.token}`;
    await link.start();
  } catch (err) {
    // a port taken (the demo then tries another): nothing of this attempt stays behind, the streams' heartbeat timer included
    await stop();
    throw err;
  }
  return {
    url: `${base()}/`,
    get loginUrl() {
      return loginUrl;
    },
    pageBuilt: page.has('/'),
    link,
    stop,
  };
}
