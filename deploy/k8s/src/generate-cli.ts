// `npm run k8s:generate`: rewrite every generated manifest (tenants of each overlay, monitoring).
import { mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedFiles, K8S_DIR, staleFiles } from './generate.ts';

const files = generatedFiles();
for (const stale of staleFiles(files)) {
  rmSync(join(K8S_DIR, stale));
  // A removed tenant's directory goes with its last file.
  const dir = dirname(join(K8S_DIR, stale));
  if (readdirSync(dir).length === 0) rmdirSync(dir);
}
for (const [path, content] of files) {
  mkdirSync(dirname(join(K8S_DIR, path)), { recursive: true });
  writeFileSync(join(K8S_DIR, path), content);
}
console.log(`k8s: ${files.size} generated files written under ${K8S_DIR}`);
