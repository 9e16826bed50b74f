export { program } from './program.js';
export { parseListen } from './listen-address.js';
