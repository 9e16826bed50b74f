export { program } from './program.js';
export { parseListen } from './listen-address.js';
export { startHub, type Hub } from './hub/start-hub.js';
export { HubConfigSchema, type HubConfig, type HubConfigInput } from './hub/hub-config.js';
export { runDemo, type DemoOptions } from './demo/run-demo.js';
export type { DemoSummary } from './demo/demo-event.js';
