import type { CloudService } from '@tessera/token-lease';

/** A cloud whose creates wait until `open()`; counts creates waiting now and the most at once. */
export function gatedCloud(inner: CloudService) {
  let open = false;
  const waiting: (() => void)[] = [];
  const state = { inFlight: 0, most: 0 };
  const cloud = new Proxy(inner, {
    get(target, key) {
      if (key === 'create') {
        return async (...args: Parameters<CloudService['create']>) => {
          state.inFlight++;
          state.most = Math.max(state.most, state.inFlight);
          if (!open) await new Promise<void>((resolve) => waiting.push(resolve));
          try {
            return await inner.create(...args);
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
