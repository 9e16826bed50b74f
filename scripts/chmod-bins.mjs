// Makes every workspace package's declared bin executable after a build
// (tsc does not keep the mode, and npm links bins before they exist).
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

for (const group of ['packages', 'examples']) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const manifest = join(group, name, 'package.json');
    if (!existsSync(manifest)) continue;
    const { bin } = JSON.parse(readFileSync(manifest, 'utf8'));
    const targets = typeof bin === 'string' ? [bin] : Object.values(bin ?? {});
    for (const target of targets) {
      const file = join(group, name, target);
      if (existsSync(file)) chmodSync(file, 0o755);
    }
  }
}
