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
];
const registry: Record<string, avro.Type> = {};
for (const file of FILES) avro.Type.forSchema(load(file) as avro.Schema, { registry });

function build(name: string): { type: avro.Type; schema: avro.Schema } {
  const type = registry[`li.v1.${name}`];
  if (!type) throw new Error(`no Avro type li.v1.${name} in ${dir}`);
  return { type, schema: type.schema({ exportAttrs: true }) as avro.Schema };
}

/** The record schemas services exchange, by name. Versions are in the file names. */
export const SCHEMAS = {
  NormalizedEvent: build('NormalizedEvent'),
  MatchedEvent: build('MatchedEvent'),
  Warrant: build('Warrant'),
  LemfDestination: build('LemfDestination'),
  Tenant: build('Tenant'),
  AuditRecord: build('AuditRecord'),
} as const;

export type SchemaName = keyof typeof SCHEMAS;
