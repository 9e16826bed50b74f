import type { CloudService } from '@tessera/token-lease';

/** A cloud whose creates (or revokes) wait until `open()`; counts calls waiting now and the most at once. */
export function gatedCloud(inner: CloudService, method: 'create' | 'revoke' = 'create') {
  let open = false;
  const waiting: (() => void)[] = [];
  const state = { inFlight: 0, most: 0 };
  const cloud = new Proxy(inner, {
    get(target, key) {
      if (key === method) {
        return async (...args: unknown[]) => {
          state.inFlight++;
          state.most = Math.max(state.most, state.inFlight);
          if (!open) await new Promise<void>((resolve) => waiting.push(resolve));
          try {
            return await (inner[method] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
          } finally {
            state.inFlight--;
          }
        };
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    cloud,
    state,
    open() {
      open = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}
