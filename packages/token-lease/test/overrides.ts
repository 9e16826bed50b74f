import { CloudUnavailableError, type CloudService } from '@tessera/token-lease';

/** `inner` with some methods replaced; the rest stay bound to `inner` (private fields and all). */
export function withOverrides<T extends object>(inner: T, overrides: Partial<T>): T {
  return new Proxy(inner, {
    get(target, key) {
      if (key in overrides) return overrides[key as keyof T];
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A cloud whose revoke fails (unavailable, as while InfluxDB is down) the first `failures` times; `calls` counts every revoke. */
export function flakyRevoke(inner: CloudService, state: { failures: number; calls: number }): CloudService {
  return withOverrides<CloudService>(inner, {
    revoke: async (id: string) => {
      state.calls++;
      if (state.failures > 0) {
        state.failures--;
        throw new CloudUnavailableError('cloud unavailable: test says no', 503);
      }
      return inner.revoke(id);
    },
  });
}
