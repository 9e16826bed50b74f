#!/usr/bin/env node
// The command's entry: the compiled program lives in dist/ (npm run build).
import('../dist/bin.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('this command is not built yet: run `npm run build` (or `npm start`) at the repository root\n');
    process.exit(1);
  }
  throw err;
});
