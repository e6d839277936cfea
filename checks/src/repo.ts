// Reads the monorepo's services and workspace packages for structure.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Entry, PackageJson } from './rules.ts';

export const root = join(import.meta.dirname, '..', '..');

/** Names of the folders under services/. */
export function services(): string[] {
  return readdirSync(join(root, 'services'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** Folders of every workspace package, relative to the root: libs/core, services/admf, test, … */
export function workspaces(): string[] {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
  return workspaces.flatMap((w) =>
    w.endsWith('/*')
      ? readdirSync(join(root, w.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => `${w.slice(0, -2)}/${d.name}`)
      : [w],
  );
}

export function packageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as PackageJson;
}

export function entries(dir: string): Entry[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).map((d) => ({ name: d.name, dir: d.isDirectory() }));
}

/** Every .ts file under dir (node_modules left out), relative to the root. */
export function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && /\.[cm]?ts$/.test(d.name))
    .map((d) => relative(root, join(d.parentPath, d.name)))
    .filter((f) => !f.split('/').includes('node_modules'))
    .sort();
}

export function read(file: string): string {
  return readFileSync(join(root, file), 'utf8');
}
