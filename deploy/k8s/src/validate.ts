// Validates rendered objects offline: Kubernetes kinds with kubernetes-models (schemas of a
// Kubernetes newer than 1.30), KEDA and Prometheus Operator kinds with their @kubernetes-models
// packages, Strimzi kinds with Strimzi's own CRD schemas (crds/fetch.sh). An object of any other
// kind is an error: nothing is rendered unchecked.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { REPO_ROOT } from './generate.ts';
import type { K8sObject } from './render.ts';

const MODEL_PACKAGES: Record<string, string> = {
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};
const STRIMZI_GROUP = 'kafka.strimzi.io';
const STRIMZI_KINDS: Record<string, string> = {
  Kafka: 'kafkas',
  KafkaNodePool: 'kafkanodepools',
  KafkaTopic: 'kafkatopics',
  KafkaUser: 'kafkausers',
};

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

type Model = new (data: unknown) => { validate(): void };

function modelPath(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = group ? (MODEL_PACKAGES[group] ?? 'kubernetes-models') : 'kubernetes-models';
  return group ? `${pkg}/${group}/${version}/${kind}` : `${pkg}/${version}/${kind}`;
}

async function modelOf(apiVersion: string, kind: string): Promise<Model> {
  const path = modelPath(apiVersion, kind);
  try {
    const m = (await import(path)) as Record<string, Model>;
    const model = m[kind];
    if (!model) throw new Error('no model');
    return model;
  } catch {
    throw new Error(
      `${apiVersion} ${kind}: no schema known (not a Kubernetes, KEDA, Prometheus Operator or Strimzi kind)`,
    );
  }
}

/**
 * The API server prunes fields a structural schema does not name: a typo would be dropped in
 * silence. So every object schema that lists its properties and does not keep unknown fields
 * gets additionalProperties: false here.
 */
function closeSchema(s: unknown): void {
  if (Array.isArray(s)) {
    for (const x of s) closeSchema(x);
    return;
  }
  if (typeof s !== 'object' || s === null) return;
  const o = s as Record<string, unknown>;
  for (const v of Object.values(o)) closeSchema(v);
  if (o.properties && o.additionalProperties === undefined && !o['x-kubernetes-preserve-unknown-fields']) {
    o.additionalProperties = false;
  }
}

function strimziCrdDir(): string {
  const pom = readFileSync(join(REPO_ROOT, 'deploy/k8s/crds/pom.xml'), 'utf8');
  const version = /<strimzi.version>(.+)<\/strimzi.version>/.exec(pom)?.[1];
  return join(REPO_ROOT, '.run/k8s-crds', version ?? 'unknown');
}

const strimziValidators = new Map<string, ValidateFunction>();
function strimziValidator(kind: string, version: string): ValidateFunction {
  const key = `${kind}/${version}`;
  let v = strimziValidators.get(key);
  if (v) return v;
  const file = join(strimziCrdDir(), `${STRIMZI_KINDS[kind]}.yaml`);
  if (!existsSync(file)) throw new Error(`${file} missing: run deploy/k8s/crds/fetch.sh`);
  const crd = parse(readFileSync(file, 'utf8')) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] };
  };
  const schema = crd.spec.versions.find((x) => x.name === version)?.schema.openAPIV3Schema;
  if (!schema) throw new Error(`Strimzi ${kind}: no version ${version}`);
  const s = structuredClone(schema);
  closeSchema(s);
  // metadata is the API server's (checked below for every object), not the CRD's.
  (s.properties as Record<string, unknown>).metadata = { type: 'object' };
  v = new Ajv({ strict: false, allErrors: true }).compile(s);
  strimziValidators.set(key, v);
  return v;
}

/** Problems of one object ([] when valid). */
export async function validateObject(o: K8sObject): Promise<string[]> {
  const id = `${o.kind ?? '?'} ${o.metadata?.name ?? '?'}`;
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return [`${id}: apiVersion and kind required`];
  const problems: string[] = [];
  if (!DNS_SUBDOMAIN.test(o.metadata?.name ?? '')) problems.push(`${id}: metadata.name is not a DNS subdomain`);
  const [group, version] = o.apiVersion.split('/');
  if (group === STRIMZI_GROUP && version) {
    if (!STRIMZI_KINDS[o.kind]) return [...problems, `${id}: unknown Strimzi kind`];
    const v = strimziValidator(o.kind, version);
    if (!v(o)) for (const e of v.errors ?? []) problems.push(`${id}: ${e.instancePath || '/'} ${e.message}`);
    return problems;
  }
  try {
    const Model = await modelOf(o.apiVersion, o.kind);
    new Model(o).validate();
  } catch (e) {
    problems.push(`${id}: ${(e as Error).message}`);
  }
  return problems;
}

/** Every problem of a rendered overlay: schemas, then unknown fields. */
export async function validateAll(objects: readonly K8sObject[]): Promise<string[]> {
  const all: string[] = [];
  for (const o of objects) all.push(...(await validateObject(o)));
  return all.length > 0 ? all : unknownFields(objects);
}

/**
 * Unknown fields in the kinds kubernetes-models describes: its validators accept them, but the
 * API server would drop them in silence (a typo in a probe is a missing probe). Each object is
 * written as a TypeScript literal of its model's interface and type-checked: an excess property
 * is a compile error naming the field.
 */
function unknownFields(objects: readonly K8sObject[]): string[] {
  const checked = objects.filter((o) => !o.apiVersion.startsWith(`${STRIMZI_GROUP}/`));
  const base = join(REPO_ROOT, '.run');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'k8s-typecheck-'));
  try {
    const imports = new Map<string, string>();
    const lines: string[] = [];
    const owner: string[] = [];
    checked.forEach((o, i) => {
      const type = `T${imports.size}`;
      const path = modelPath(o.apiVersion, o.kind);
      if (!imports.has(path)) imports.set(path, type);
      const body = JSON.stringify(o, null, 1).split('\n');
      body[0] = `export const o${i}: ${imports.get(path)} = ${body[0]}`;
      body[body.length - 1] += ';';
      for (const l of body) {
        lines.push(l);
        owner.push(`${o.kind} ${o.metadata.name}`);
      }
    });
    const head = [...imports].map(([path, type]) => {
      const kind = path.slice(path.lastIndexOf('/') + 1);
      return `import type { I${kind} as ${type} } from '${path}';`;
    });
    writeFileSync(join(dir, 'objects.ts'), [...head, ...lines].join('\n'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(REPO_ROOT, 'tsconfig.base.json'),
        compilerOptions: { types: [] },
        files: ['objects.ts'],
      }),
    );
    const r = spawnSync(join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], {
      encoding: 'utf8',
    });
    if (r.status === 0) return [];
    const problems = [];
    for (const m of `${r.stdout}${r.stderr}`.matchAll(/objects\.ts\((\d+),\d+\): error TS\d+: (.+)/g)) {
      const line = Number(m[1]) - 1 - head.length;
      problems.push(`${owner[line] ?? 'import'}: ${m[2]}`);
    }
    return problems.length > 0 ? problems : [`tsc: ${r.stdout}${r.stderr}`];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
