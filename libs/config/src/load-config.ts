// Service configuration: defaults from the schema, then an optional YAML file, then the
// environment. Validated once at start-up; a bad value stops the service with a message
// that names the key, its environment variable and what was expected (never the value,
// which may be a secret).
import { readFileSync } from 'node:fs';
import type Type from 'typebox';
import Value from 'typebox/value';
import { parse as parseYaml } from 'yaml';

export interface LoadConfigOptions {
  /** Environment to read; main.ts passes process.env, tests pass their own. */
  env?: Record<string, string | undefined>;
  /** Prefix of every variable: key `kafkaBrokers` is read from `LI_KAFKA_BROKERS`. */
  envPrefix?: string;
  /** YAML file with the same keys; by default the path in `<prefix>CONFIG_FILE`, if set. */
  file?: string;
}

export interface ConfigProblem {
  key: string;
  env: string;
  expected: string;
}

export class ConfigError extends Error {
  readonly code = 'CFG_ERR_INVALID';
  readonly retriable = false;
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.key} (env ${p.env}): ${p.expected}`).join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** camelCase key path → environment variable name: ['kafka','clientId'] → LI_KAFKA__CLIENT_ID. */
export function envNameFor(path: string[], prefix = 'LI_'): string {
  return prefix + path.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

type AnySchema = Type.TSchema & { type?: string; properties?: Record<string, Type.TSchema> };

function fromEnv(
  schema: AnySchema,
  env: Record<string, string | undefined>,
  prefix: string,
  path: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const s = sub as AnySchema;
    const here = [...path, key];
    if (s.type === 'object' && s.properties) {
      const nested = fromEnv(s, env, prefix, here);
      if (Object.keys(nested).length > 0) out[key] = nested;
      continue;
    }
    const raw = env[envNameFor(here, prefix)];
    if (raw === undefined || raw === '') continue;
    // Lists come as comma-separated values; Value.Convert turns strings into numbers/booleans.
    out[key] =
      s.type === 'array'
        ? raw
            .split(',')
            .map((v) => v.trim())
            .filter((v) => v.length > 0)
        : raw;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? merge(b, v) : v;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Loads, converts and validates configuration; throws ConfigError listing every bad key. */
export function loadConfig<S extends Type.TObject>(
  schema: S,
  options: LoadConfigOptions = {},
): Readonly<Type.Static<S>> {
  const env = options.env ?? {};
  const prefix = options.envPrefix ?? 'LI_';
  const file = options.file ?? env[`${prefix}CONFIG_FILE`];
  let fromFile: Record<string, unknown> = {};
  if (file) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError([
        { key: '(file)', env: `${prefix}CONFIG_FILE`, expected: `a readable YAML file (${(err as Error).message})` },
      ]);
    }
    if (parsed !== null && parsed !== undefined && !isPlainObject(parsed)) {
      throw new ConfigError([
        { key: '(file)', env: `${prefix}CONFIG_FILE`, expected: 'a YAML mapping at the top level' },
      ]);
    }
    fromFile = (parsed as Record<string, unknown> | null) ?? {};
  }
  const candidate = merge(fromFile, fromEnv(schema as AnySchema, env, prefix, []));
  const value = Value.Convert(schema, Value.Default(schema, candidate));
  if (!Value.Check(schema, value)) {
    const seen = new Map<string, ConfigProblem>();
    for (const e of Value.Errors(schema, value)) {
      const path = e.instancePath.split('/').filter((p) => p.length > 0);
      if (e.keyword === 'required') {
        const params = e.params as { requiredProperties?: string[]; missingProperty?: string };
        for (const missing of params.requiredProperties ?? [params.missingProperty ?? '?']) {
          const p = [...path, missing];
          seen.set(p.join('.'), { key: p.join('.'), env: envNameFor(p, prefix), expected: 'a value (required)' });
        }
        continue;
      }
      const key = path.join('.') || '(root)';
      // A union reports one error per branch and then a summary: keep the most specific first one.
      if (seen.has(key)) continue;
      seen.set(key, { key, env: envNameFor(path, prefix), expected: describe(schema, path, e.message) });
    }
    throw new ConfigError([...seen.values()]);
  }
  return deepFreeze(value as Type.Static<S>);
}

function describe(schema: Type.TSchema, path: string[], fallback: string): string {
  let s: AnySchema | undefined = schema as AnySchema;
  for (const p of path) s = s?.properties?.[p] as AnySchema | undefined;
  const anyOf = (s as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf;
  if (anyOf?.every((b) => b.const !== undefined))
    return `one of ${anyOf.map((b) => JSON.stringify(b.const)).join(', ')}`;
  const d = (s as { description?: string } | undefined)?.description;
  return d ? `${fallback} (${d})` : fallback;
}
