// Every service keeps the skeleton of docs/CONTRIBUTING.md "Layout of a service"; one test per rule
// and service, so that a failure names both, and lists the files at fault.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entries, packageJson, read, root, services, tsFiles, workspaces } from './repo.ts';
import {
  crossServiceProblems,
  domainProblems,
  errorsProblems,
  importsOf,
  kafkaClientProblems,
  mainProblems,
  skeletonProblems,
  undeclaredProblems,
} from './rules.ts';

const all = services();
const fileIn = (dir: string, name: string) => (existsSync(join(root, dir, name)) ? read(`${dir}/${name}`) : undefined);

describe.each(all)('services/%s', (name) => {
  const src = `services/${name}/src`;

  it('has main.ts, service.ts, config.ts, errors.ts, domain/ and nothing but adapters/ and testing/ besides', () => {
    expect(skeletonProblems(entries(src))).toEqual([]);
  });

  it('main.ts only calls runService', () => {
    const source = fileIn(src, 'main.ts');
    expect(source === undefined ? ['src/main.ts is missing'] : mainProblems(source)).toEqual([]);
  });

  it('errors.ts is a defineErrors table from @li/core', () => {
    const source = fileIn(src, 'errors.ts');
    expect(source === undefined ? ['src/errors.ts is missing'] : errorsProblems(source)).toEqual([]);
  });

  // Tests beside domain code may read fixtures from disk or look at metrics; the code they test may not.
  it('domain/ imports no I/O, Kafka, servers, logger or metrics, and reads no process.env', () => {
    const domain = `${src}/domain`;
    const files = (existsSync(join(root, domain)) ? tsFiles(domain) : []).filter((f) => !f.endsWith('.test.ts'));
    expect(files.flatMap((f) => domainProblems(f, read(f)))).toEqual([]);
  });

  // Tests may drive the broker directly; the service's code goes through libs/bus.
  it('src/ imports no kafkajs and uses no bus.kafka', () => {
    const files = tsFiles(src).filter((f) => !f.endsWith('.test.ts'));
    expect(files.flatMap((f) => kafkaClientProblems(f, read(f)))).toEqual([]);
  });

  it('imports no other service', () => {
    const files = tsFiles(`services/${name}`);
    expect(files.flatMap((f) => crossServiceProblems(f, importsOf(read(f)), name, all))).toEqual([]);
  });
});

const dirs = workspaces();
const names = new Set(dirs.map((d) => packageJson(d).name));

describe.each(dirs)('%s', (dir) => {
  it('lists every workspace package it imports in package.json', () => {
    const pkg = packageJson(dir);
    const files = tsFiles(dir);
    expect(files.flatMap((f) => undeclaredProblems(f, importsOf(read(f)), pkg, names))).toEqual([]);
  });
});
