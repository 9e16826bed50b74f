import { useEffect, useState } from 'preact/hooks';
import type { HubEvent } from '../src/protocol/operator-view.js';
import { applyEvent, isViewEvent, type LinkState, type ViewState } from '../src/view/view-state.js';

/** What the page knows: the view, the offset of the console's clock from the browser's, and whether it is logged in. */
export interface Live {
  view: ViewState | null;
  /** Add to Date.now() for the console's time. */
  offset: number;
  loggedIn: boolean | null;
}

/**
 * The view, kept live by the console's server-sent events (`/api/events`):
 * the whole view first, then each hub event applied with the same reducer as
 * the server's, and the link's state. No polling: the browser's EventSource
 * reconnects by itself.
 */
export function useLiveView(): Live {
  const [live, setLive] = useState<Live>({ view: null, offset: 0, loggedIn: null });
  useEffect(() => {
    const source = new EventSource('/api/events');
    source.addEventListener('view', (e) => {
      const view = JSON.parse((e as MessageEvent<string>).data) as ViewState;
      setLive({ view, offset: view.serverNow - Date.now(), loggedIn: true });
    });
    source.addEventListener('event', (e) => {
      const event = JSON.parse((e as MessageEvent<string>).data) as HubEvent;
      if (isViewEvent(event)) setLive((l) => (l.view === null ? l : { ...l, view: applyEvent(l.view, event) }));
    });
    source.addEventListener('link', (e) => {
      const link = JSON.parse((e as MessageEvent<string>).data) as LinkState;
      setLive((l) => (l.view === null ? l : { ...l, view: { ...l.view, link } }));
    });
    source.onerror = () => {
      // a 401 (not logged in) ends the stream for good; anything else the browser retries
      void fetch('/api/events', { method: 'HEAD', cache: 'no-store' }).then((res) => {
        if (res.status === 401) {
          source.close();
          setLive((l) => ({ ...l, loggedIn: false }));
        }
      });
    };
    return () => source.close();
  }, []);
  return live;
}

/** The console's time now, redrawn every `every` ms. */
export function useNow(offset: number, every = 1000): number {
  const [now, setNow] = useState(() => Date.now() + offset);
  useEffect(() => {
    setNow(Date.now() + offset);
    const timer = setInterval(() => setNow(Date.now() + offset), every);
    return () => clearInterval(timer);
  }, [offset, every]);
  return now;
}
