// Loads the versioned Avro schemas in ../avro and makes each record schema self-contained
// (named types from common.v1.avsc inlined at first use), as the schema registry stores them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';

const dir = join(import.meta.dirname, '..', 'avro');

function load(file: string): unknown {
  return JSON.parse(readFileSync(join(dir, file), 'utf8'));
}

// Files in dependency order: a file may use the named types of those before it.
const FILES = [
  'common.v1.avsc',
  'normalized-event.v1.avsc',
  'matched-event.v1.avsc',
  'warrant.v1.avsc',
  'lemf-destination.v1.avsc',
  'tenant.v1.avsc',
  'audit-record.v1.avsc',
  'tap.v1.avsc',
];
const registry: Record<string, avro.Type> = {};
for (const file of FILES) avro.Type.forSchema(load(file) as avro.Schema, { registry });

// avsc reads an enum's default (Avro 1.9: what an unknown symbol reads as) but does not export
// it: put it back, or the registry and every reader would never see it.
const enumDefaults = new Map<string, string>();
for (const [name, t] of Object.entries(registry)) {
  const d = (t as { default?: unknown }).default;
  if (t.typeName === 'enum' && typeof d === 'string') enumDefaults.set(name, d);
}

function withEnumDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withEnumDefaults);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = withEnumDefaults(v);
  const d = out.type === 'enum' && typeof out.name === 'string' ? enumDefaults.get(out.name) : undefined;
  if (d !== undefined) out.default = d;
  return out;
}

function build(name: string): { type: avro.Type; schema: avro.Schema } {
  const type = registry[`li.v1.${name}`];
  if (!type) throw new Error(`no Avro type li.v1.${name} in ${dir}`);
  return { type, schema: withEnumDefaults(type.schema({ exportAttrs: true })) as avro.Schema };
}

/** The record schemas services exchange, by name. Versions are in the file names. */
export const SCHEMAS = {
  NormalizedEvent: build('NormalizedEvent'),
  MatchedEvent: build('MatchedEvent'),
  Warrant: build('Warrant'),
  LemfDestination: build('LemfDestination'),
  Tenant: build('Tenant'),
  AuditRecord: build('AuditRecord'),
  Tap: build('Tap'),
} as const;

export type SchemaName = keyof typeof SCHEMAS;
