import type { Route } from '../router.js';
import { COMMIT, INFLUXDB_VERSION } from '../version.js';

/** GET /health and GET/HEAD /ping: no token needed, as on the real server (every response carries the version headers). */
export const healthRoutes: Route[] = [
  {
    method: 'GET',
    path: '/health',
    handle: () => ({
      status: 200,
      body: { name: 'influxdb', message: 'ready for queries and writes', status: 'pass', checks: [], version: INFLUXDB_VERSION, commit: COMMIT },
    }),
  },
  { method: 'GET', path: '/ping', handle: () => ({ status: 204 }) },
  { method: 'HEAD', path: '/ping', handle: () => ({ status: 204 }) },
];
