// Writes src/generated.ts (the TypeScript shapes of the Avro records) from ../avro/*.avsc, so
// the schemas are the one source. Run after changing a schema: node scripts/generate-types.ts
// A unit test (src/generated.test.ts) fails when src/generated.ts differs from render().
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(import.meta.dirname, '..');
const AVRO_DIR = join(root, 'avro');
export const GENERATED_FILE = join(root, 'src', 'generated.ts');
const NAMESPACE = 'li.v1';
const LINE_WIDTH = 120;

/**
 * Fields TypeScript marks optional (`name?:`): fields added to a schema after records had been
 * written. The bus decodes with the writer's schema, so such a record arrives without them.
 */
const OPTIONAL_FIELDS: Record<string, readonly string[]> = {
  MatchedEvent: ['matchedParties', 'courtCaseId'],
  FileSettings: ['hostKeySha256', 'streams', 'format'],
  LemfDestination: ['allowInsecure', 'ipsec'],
  Target: ['incomplete'],
  ItalianAuthorisation: ['interceptionType', 'technicalData'],
};

interface AvroField {
  name: string;
  type: AvroType;
  doc?: string;
  default?: unknown;
}
type AvroType =
  | string
  | AvroType[]
  | { type: 'record'; name: string; namespace?: string; doc?: string; fields: AvroField[] }
  | { type: 'enum'; name: string; namespace?: string; doc?: string; symbols: string[]; default?: string }
  | { type: 'array'; items: AvroType }
  | { type: 'map'; values: AvroType };

const PRIMITIVES: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

/** EventCategory -> EVENT_CATEGORIES: the const array of an enum's symbols. */
export function symbolsConstName(typeName: string): string {
  const snake = typeName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  return snake.endsWith('Y') ? `${snake.slice(0, -1)}IES` : `${snake}S`;
}

function shortName(name: string): string {
  return name.startsWith(`${NAMESPACE}.`) ? name.slice(NAMESPACE.length + 1) : name;
}

function docComment(doc: string | undefined, indent: string): string[] {
  if (!doc) return [];
  const words = doc.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && indent.length + 3 + line.length + 1 + w.length > LINE_WIDTH) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  lines.push(line);
  if (lines.length === 1 && indent.length + 7 + lines[0]!.length <= LINE_WIDTH) return [`${indent}/** ${lines[0]} */`];
  return [`${indent}/**`, ...lines.map((l) => `${indent} * ${l}`), `${indent} */`];
}

/** The .avsc files, in name order. */
export function schemaFiles(): string[] {
  return readdirSync(AVRO_DIR)
    .filter((f) => f.endsWith('.avsc'))
    .sort();
}

/** The text of src/generated.ts for the schemas in ../avro. */
export function render(): string {
  const enums: string[] = [];
  const records: string[] = [];
  const seen = new Set<string>();

  const tsType = (t: AvroType): string => {
    if (typeof t === 'string') return PRIMITIVES[t] ?? shortName(t);
    if (Array.isArray(t)) {
      const branches = t.map(tsType);
      // ["null", X] reads as "X | null", as the hand-written types did
      return branches.includes('null')
        ? [...branches.filter((b) => b !== 'null'), 'null'].join(' | ')
        : branches.join(' | ');
    }
    switch (t.type) {
      case 'record':
        visitRecord(t);
        return t.name;
      case 'enum':
        visitEnum(t);
        return t.name;
      case 'array': {
        const item = tsType(t.items);
        return item.includes(' ') ? `(${item})[]` : `${item}[]`;
      }
      case 'map':
        return `Record<string, ${tsType(t.values)}>`;
      default:
        return t satisfies never;
    }
  };

  function visitEnum(t: Extract<AvroType, { type: 'enum' }>): void {
    if (seen.has(t.name)) return;
    seen.add(t.name);
    const constName = symbolsConstName(t.name);
    const quoted = t.symbols.map((s) => `'${s}'`);
    const oneLine = `export const ${constName} = [${quoted.join(', ')}] as const;`;
    const doc = t.default
      ? `${t.doc ? `${t.doc} ` : ''}Avro enum default: a symbol of a newer writer unknown here resolves to ${t.default}.`
      : t.doc;
    enums.push(
      ...docComment(doc, ''),
      ...(oneLine.length <= LINE_WIDTH
        ? [oneLine]
        : [`export const ${constName} = [`, ...quoted.map((q) => `  ${q},`), '] as const;']),
      `export type ${t.name} = (typeof ${constName})[number];`,
      '',
    );
  }

  function visitRecord(t: Extract<AvroType, { type: 'record' }>): void {
    if (seen.has(t.name)) return;
    seen.add(t.name);
    const optional = OPTIONAL_FIELDS[t.name] ?? [];
    const body: string[] = [];
    for (const f of t.fields) {
      const opt = optional.includes(f.name);
      const doc = opt ? `${f.doc ? `${f.doc}. ` : ''}Absent in records written before the field existed.` : f.doc;
      body.push(...docComment(doc, '  '), `  ${f.name}${opt ? '?' : ''}: ${tsType(f.type)};`);
    }
    records.push(...docComment(t.doc, ''), `export interface ${t.name} {`, ...body, '}', '');
  }

  for (const file of schemaFiles()) {
    const parsed = JSON.parse(readFileSync(join(AVRO_DIR, file), 'utf8')) as AvroType;
    for (const t of Array.isArray(parsed) ? parsed : [parsed]) tsType(t);
  }
  for (const record of Object.keys(OPTIONAL_FIELDS)) {
    if (!seen.has(record)) throw new Error(`OPTIONAL_FIELDS names ${record}, which no schema defines`);
  }
  const header = [
    '// Generated from ../avro/*.avsc by scripts/generate-types.ts: do not edit; change the schema and run',
    '// `npm run generate` in libs/schemas.',
    '',
  ];
  return `${[...header, ...enums, ...records].join('\n').trimEnd()}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(GENERATED_FILE, render());
  console.log(`wrote ${GENERATED_FILE}`);
}
