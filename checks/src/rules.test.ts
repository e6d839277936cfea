import { describe, expect, it } from 'vitest';
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

describe('importsOf', () => {
  it('finds type-only, re-exported, side-effect and dynamic imports, not comments or strings', () => {
    const source = [
      "import type { Logger } from '@li/log';",
      "export { x } from './a.ts';",
      "export type * from 'kafkajs';",
      "import './side.ts';",
      "const fs = await import('node:fs');",
      "type M = import('@li/metrics').Registry;",
      "// import y from 'in-a-comment';",
      'const s = "import z from \'in-a-string\'";',
    ].join('\n');
    expect(importsOf(source)).toEqual(['@li/log', './a.ts', 'kafkajs', './side.ts', 'node:fs', '@li/metrics']);
  });
});

describe('skeletonProblems', () => {
  const skeleton = [
    { name: 'main.ts', dir: false },
    { name: 'service.ts', dir: false },
    { name: 'config.ts', dir: false },
    { name: 'errors.ts', dir: false },
    { name: 'domain', dir: true },
  ];

  it('accepts the skeleton, with adapters/, testing/ and tests beside the top-level files', () => {
    const extra = ['adapters', 'testing'].map((name) => ({ name, dir: true }));
    const tests = ['config.test.ts', 'service.test.ts', 'errors.property.test.ts'].map((name) => ({
      name,
      dir: false,
    }));
    expect(skeletonProblems([...skeleton, ...extra, ...tests])).toEqual([]);
  });

  it('names what is missing', () => {
    expect(skeletonProblems(skeleton.filter((e) => e.name !== 'errors.ts' && e.name !== 'domain'))).toEqual([
      'src/errors.ts is missing',
      'src/domain/ is missing',
    ]);
  });

  it('names what is not part of it: app.ts, index.ts, other folders, a file named like a folder', () => {
    const problems = skeletonProblems([
      ...skeleton,
      { name: 'app.ts', dir: false },
      { name: 'index.ts', dir: false },
      { name: 'app.test.ts', dir: false },
      { name: 'http', dir: true },
      { name: 'testing.ts', dir: false },
    ]);
    expect(problems.map((p) => p.split(' ')[0])).toEqual([
      'src/app.ts',
      'src/index.ts',
      'src/app.test.ts',
      'src/http/',
      'src/testing.ts',
    ]);
  });
});

describe('domainProblems', () => {
  it('accepts values, @li/core and pure node modules', () => {
    const source = "import { defineErrors } from '@li/core';\nimport { createHash } from 'node:crypto';\n";
    expect(domainProblems('d.ts', source)).toEqual([]);
  });

  it('flags I/O, Kafka, servers, logger, metrics and the bus, with or without node: and as types', () => {
    const source = [
      "import type { Logger } from '@li/log';",
      "import { readFileSync } from 'fs';",
      "import { readFile } from 'node:fs/promises';",
      "import { Kafka } from 'kafkajs';",
      "import { Counter } from 'prom-client';",
      "import { topicName } from '@li/bus/topics';",
      "import net from 'node:net';",
    ].join('\n');
    expect(domainProblems('d.ts', source)).toEqual([
      'd.ts imports @li/log',
      'd.ts imports fs',
      'd.ts imports node:fs/promises',
      'd.ts imports kafkajs',
      'd.ts imports prom-client',
      'd.ts imports @li/bus/topics',
      'd.ts imports node:net',
    ]);
  });

  it('flags process.env by property and by index, and names the line, not a mention in a comment', () => {
    const source = "// process.env is read in config.ts\nconst a = process.env.LI_X;\nconst b = process['env'];\n";
    expect(domainProblems('d.ts', source)).toEqual(['d.ts:2 reads process.env', 'd.ts:3 reads process.env']);
  });
});

describe('mainProblems', () => {
  it('accepts runService(the service)', () => {
    const source =
      "import { runService } from '@li/runtime';\nimport { s } from './service.ts';\n\nawait runService(s);\n";
    expect(mainProblems(source)).toEqual([]);
  });

  it('flags other imports, other statements and a missing call', () => {
    const source = "import { runService } from '@li/runtime';\nimport { s } from './kafka-service.ts';\nconst x = 1;\n";
    expect(mainProblems(source)).toEqual([
      'main.ts imports ./kafka-service.ts: only @li/runtime and ./service.ts',
      'main.ts does more than runService: const x = 1;',
      'main.ts calls runService 0 times, not once',
    ]);
  });
});

describe('errorsProblems', () => {
  it('accepts a defineErrors table', () => {
    const source = "import { defineErrors } from '@li/core';\nexport const errors = defineErrors('ADM', {});\n";
    expect(errorsProblems(source)).toEqual([]);
  });

  it('flags a hand-made table, and a type-only import', () => {
    expect(errorsProblems('export class AdmError extends Error {}\n')).toEqual([
      'errors.ts does not import defineErrors from @li/core',
      'errors.ts does not call defineErrors',
    ]);
    expect(errorsProblems("import type { defineErrors } from '@li/core';\n")).toHaveLength(2);
  });
});

describe('kafkaClientProblems', () => {
  it('accepts the bus helpers, a config field named kafka and a mention in a comment or string', () => {
    const source = [
      "import { busConsumer, type Bus } from '@li/bus';",
      '// not bus.kafka: the helpers',
      "const c = busConsumer(bus, { groupId: 'g' });",
      'const brokers = config.kafka.brokers;',
      "log.info('bus.kafka');",
    ].join('\n');
    expect(kafkaClientProblems('a.ts', source)).toEqual([]);
  });

  it('flags kafkajs imports (types and subpaths too) and bus.kafka, named or destructured', () => {
    const source = [
      "import type { Consumer } from 'kafkajs';",
      "export { logLevel } from 'kafkajs/x';",
      'const a = bus.kafka.consumer({});',
      'readTopic(this.bus.kafka, t);',
      'const { kafka } = o.bus;',
    ].join('\n');
    expect(kafkaClientProblems('a.ts', source)).toEqual([
      'a.ts imports kafkajs',
      'a.ts imports kafkajs/x',
      'a.ts:3 uses bus.kafka',
      'a.ts:4 uses this.bus.kafka',
      'a.ts:5 takes kafka from the bus',
    ]);
  });
});

describe('crossServiceProblems', () => {
  const services = ['admf', 'ingest'];

  it('accepts its own package and libs', () => {
    const imports = ['@li/admf/testing', '@li/bus', './x.ts', '../../admf/src/y.ts'];
    expect(crossServiceProblems('services/admf/src/a.ts', imports, 'admf', services)).toEqual([]);
  });

  it('flags another service by name or by a relative path', () => {
    const imports = ['@li/ingest/testing', '../../ingest/src/x.ts'];
    expect(crossServiceProblems('services/admf/src/a.ts', imports, 'admf', services)).toEqual([
      'services/admf/src/a.ts imports @li/ingest/testing (service ingest)',
      'services/admf/src/a.ts imports ../../ingest/src/x.ts (service ingest)',
    ]);
  });
});

describe('undeclaredProblems', () => {
  const workspaces = new Set(['@li/a', '@li/b', '@li/c']);
  const pkg = { name: '@li/a', dependencies: { '@li/b': '*' }, devDependencies: { vitest: '*' } };

  it('accepts itself, listed packages and packages outside the workspace', () => {
    expect(undeclaredProblems('f.ts', ['@li/a/testing', '@li/b', '@li/outside', 'vitest'], pkg, workspaces)).toEqual(
      [],
    );
  });

  it('flags a workspace package the package.json does not list, subpath imports too', () => {
    expect(undeclaredProblems('f.ts', ['@li/c/testing'], pkg, workspaces)).toEqual([
      "f.ts imports @li/c/testing, not in @li/a's package.json",
    ]);
  });
});
