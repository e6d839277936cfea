// The rules of docs/CONTRIBUTING.md "Layout of a service", as functions over file names and
// source text, so that each rule is unit-tested on small inputs (rules.test.ts) and then applied
// to the real tree (structure.test.ts). Each returns the problems it found, [] when none.
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import ts from 'typescript';

/** Module specifiers a file imports or re-exports: type-only, side-effect and dynamic imports too. */
export function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

const REQUIRED_FILES = ['main.ts', 'service.ts', 'config.ts', 'errors.ts'];
const REQUIRED_DIRS = ['domain'];
const OPTIONAL_DIRS = ['adapters', 'testing'];
// A unit test sits beside the file it tests: service.test.ts, config.property.test.ts.
const TOP_LEVEL_TEST = /^(service|config|errors)(\.[\w-]+)?\.test\.ts$/;

export interface Entry {
  name: string;
  dir: boolean;
}

/** Problems with the entries directly in a service's src/. */
export function skeletonProblems(entries: readonly Entry[]): string[] {
  const problems: string[] = [];
  const has = (name: string, dir: boolean) => entries.some((e) => e.name === name && e.dir === dir);
  for (const f of REQUIRED_FILES) if (!has(f, false)) problems.push(`src/${f} is missing`);
  for (const d of REQUIRED_DIRS) if (!has(d, true)) problems.push(`src/${d}/ is missing`);
  for (const e of entries) {
    const allowed = e.dir
      ? REQUIRED_DIRS.includes(e.name) || OPTIONAL_DIRS.includes(e.name)
      : REQUIRED_FILES.includes(e.name) || TOP_LEVEL_TEST.test(e.name);
    if (!allowed) {
      problems.push(
        `src/${e.name}${e.dir ? '/' : ''} is not part of the skeleton (main.ts, service.ts, config.ts, errors.ts, domain/, adapters/, testing/)`,
      );
    }
  }
  return problems;
}

/** What domain code may not import: I/O, the broker, servers, the logger, metrics. */
const DOMAIN_FORBIDDEN = [
  'kafkajs',
  'node:net',
  'node:tls',
  'node:fs',
  'node:fs/promises',
  'node:child_process',
  'node:dgram',
  'node:http',
  'node:https',
  'node:http2',
  '@li/log',
  '@li/metrics',
  '@li/bus',
  'prom-client',
  'fastify',
];

// `fs` and `node:fs` are the same module.
function normalize(spec: string): string {
  if (spec.startsWith('node:')) return spec;
  return builtinModules.includes(spec) ? `node:${spec}` : spec;
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  ts.forEachChild(node, (child) => walk(child, visit));
}

function isProcessEnv(n: ts.Node): boolean {
  if (ts.isPropertyAccessExpression(n)) {
    return ts.isIdentifier(n.expression) && n.expression.text === 'process' && n.name.text === 'env';
  }
  if (ts.isElementAccessExpression(n)) {
    const arg = n.argumentExpression;
    return (
      ts.isIdentifier(n.expression) && n.expression.text === 'process' && ts.isStringLiteral(arg) && arg.text === 'env'
    );
  }
  return false;
}

/** Problems with one file under src/domain/: forbidden imports and reads of process.env. */
export function domainProblems(file: string, source: string): string[] {
  const problems: string[] = [];
  for (const spec of importsOf(source)) {
    const s = normalize(spec);
    if (DOMAIN_FORBIDDEN.some((f) => s === f || s.startsWith(`${f}/`))) {
      problems.push(`${file} imports ${spec}`);
    }
  }
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  walk(sf, (n) => {
    if (isProcessEnv(n)) {
      const { line } = sf.getLineAndCharacterOfPosition(n.getStart());
      problems.push(`${file}:${line + 1} reads process.env`);
    }
  });
  return problems;
}

/** main.ts imports runService and the service definition, and calls runService: nothing else. */
export function mainProblems(source: string): string[] {
  const problems: string[] = [];
  const sf = ts.createSourceFile('main.ts', source, ts.ScriptTarget.Latest, true);
  let calls = 0;
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const spec = st.moduleSpecifier.text;
      if (spec !== '@li/runtime' && spec !== './service.ts') {
        problems.push(`main.ts imports ${spec}: only @li/runtime and ./service.ts`);
      }
      continue;
    }
    let e: ts.Expression | undefined = ts.isExpressionStatement(st) ? st.expression : undefined;
    if (e && (ts.isAwaitExpression(e) || ts.isVoidExpression(e))) e = e.expression;
    if (e && ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'runService') {
      calls += 1;
      continue;
    }
    problems.push(`main.ts does more than runService: ${st.getText(sf).split('\n')[0]}`);
  }
  if (calls !== 1) problems.push(`main.ts calls runService ${calls} times, not once`);
  return problems;
}

/** errors.ts builds its table with defineErrors from @li/core. */
export function errorsProblems(source: string): string[] {
  const sf = ts.createSourceFile('errors.ts', source, ts.ScriptTarget.Latest, true);
  let imported = false;
  let called = false;
  walk(sf, (n) => {
    if (
      ts.isImportDeclaration(n) &&
      ts.isStringLiteral(n.moduleSpecifier) &&
      n.moduleSpecifier.text === '@li/core' &&
      !n.importClause?.isTypeOnly &&
      n.importClause?.namedBindings &&
      ts.isNamedImports(n.importClause.namedBindings) &&
      n.importClause.namedBindings.elements.some((el) => el.name.text === 'defineErrors' && !el.isTypeOnly)
    ) {
      imported = true;
    }
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'defineErrors') called = true;
  });
  const problems: string[] = [];
  if (!imported) problems.push('errors.ts does not import defineErrors from @li/core');
  if (!called) problems.push('errors.ts does not call defineErrors');
  return problems;
}

/**
 * Imports of another service from a file of service `self`, by package name or by a relative
 * path. `file` is relative to the repository root, e.g. services/admf/src/service.ts.
 */
export function crossServiceProblems(
  file: string,
  imports: readonly string[],
  self: string,
  services: readonly string[],
): string[] {
  const problems: string[] = [];
  for (const spec of imports) {
    let other: string | undefined;
    if (spec.startsWith('@li/')) {
      other = services.find((s) => s !== self && (spec === `@li/${s}` || spec.startsWith(`@li/${s}/`)));
    } else if (spec.startsWith('.')) {
      const target = posix.join(posix.dirname(file), spec);
      other = services.find((s) => s !== self && target.startsWith(`services/${s}/`));
    }
    if (other) problems.push(`${file} imports ${spec} (service ${other})`);
  }
  return problems;
}

export interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Workspace packages (@li/*) a file imports that its package.json does not list. */
export function undeclaredProblems(
  file: string,
  imports: readonly string[],
  pkg: PackageJson,
  workspaces: ReadonlySet<string>,
): string[] {
  const declared = new Set([
    pkg.name,
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.devDependencies ?? {}),
  ]);
  const problems: string[] = [];
  for (const spec of imports) {
    if (!spec.startsWith('@li/')) continue;
    const name = spec.split('/').slice(0, 2).join('/');
    if (workspaces.has(name) && !declared.has(name))
      problems.push(`${file} imports ${spec}, not in ${pkg.name}'s package.json`);
  }
  return problems;
}

// `bus`, `o.bus`, `this.bus`: an expression naming the bus.
function namesBus(e: ts.Expression): boolean {
  if (ts.isIdentifier(e)) return e.text === 'bus';
  return ts.isPropertyAccessExpression(e) && e.name.text === 'bus';
}

/**
 * A service reaches Kafka through libs/bus only: no import of kafkajs, no `bus.kafka` (nor
 * `const { kafka } = bus`), so the client stays replaceable behind the bus.
 */
export function kafkaClientProblems(file: string, source: string): string[] {
  const problems: string[] = [];
  for (const spec of importsOf(source)) {
    if (spec === 'kafkajs' || spec.startsWith('kafkajs/')) problems.push(`${file} imports ${spec}`);
  }
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const at = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
  walk(sf, (n) => {
    if (ts.isPropertyAccessExpression(n) && n.name.text === 'kafka' && namesBus(n.expression)) {
      problems.push(`${file}:${at(n)} uses ${n.getText(sf)}`);
    }
    if (
      ts.isVariableDeclaration(n) &&
      ts.isObjectBindingPattern(n.name) &&
      n.initializer &&
      namesBus(n.initializer) &&
      n.name.elements.some((el) => (el.propertyName ?? el.name).getText(sf) === 'kafka')
    ) {
      problems.push(`${file}:${at(n)} takes kafka from the bus`);
    }
  });
  return problems;
}
