import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Where the build puts the page (packages/console/dist/page), from src/http or dist/http alike. */
export const DEFAULT_PAGE_DIR = fileURLToPath(new URL('../../dist/page/', import.meta.url));

/** A file of the page: its bytes and type. */
export interface PageFile {
  body: Buffer;
  type: string;
}

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** The page's files, read once (they are built by `npm run build`); a missing one is missing from the map. */
export async function loadPage(dir: string = DEFAULT_PAGE_DIR): Promise<Map<string, PageFile>> {
  const page = new Map<string, PageFile>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    try {
      page.set(path, { body: await readFile(`${dir}/${file}`), type });
    } catch {
      // not built: the server says so
    }
  }
  return page;
}
