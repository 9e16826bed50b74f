// Bundles the console's page (page/main.ts: Preact + htm, uPlot) with esbuild
// into dist/page: index.html, app.js, app.css. Run by `npm run build`; nothing
// of it is committed, and the page loads nothing from anywhere else.
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist/page');
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: join(root, 'page/main.ts') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  outdir: out,
  logLevel: 'warning',
});
await copyFile(join(root, 'page/index.html'), join(out, 'index.html'));
