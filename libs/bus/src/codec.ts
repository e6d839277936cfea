// Avro values framed for the schema registry (Confluent wire format), one codec per topic.
// Values are checked against the schema before encoding, so a bad record fails with the
// paths of its bad fields instead of an opaque serializer error. Records are read with our
// schema as the reader's: a writer's newer enum symbol reads as the enum's default, and a
// field it lacks as the field's default (Avro schema resolution). A codec may read only some
// fields (`readFields`): the others are skipped in the bytes, never made into values.
import { SCHEMAS, type SchemaName } from '@li/schemas';
import avro from 'avsc';
import { BusError } from './errors.ts';
import { RegistryUnavailable, type SchemaCache } from './schema-registry.ts';

export interface Codec<T> {
  readonly schemaName: SchemaName;
  readonly schemaId: number;
  encode(value: T): Promise<Buffer>;
  /**
   * As encode, but the value of `field` (a record) is `framed`, a record of `source` as it came
   * off the wire, copied in as it is: not checked or encoded again (`value[field]` is not read).
   * Only a record that `source` wrote with its own schema, the field's schema, is copied: for any
   * other (`framed` of another writer schema, or a source of another schema) it throws
   * BUS_ERR_SCHEMA; `source.isOwn(framed)` tells beforehand.
   */
  encodeWithFramed<K extends keyof T & string>(
    value: T,
    field: K,
    framed: Buffer,
    source: Pick<Codec<unknown>, 'schemaName' | 'schemaId'>,
  ): Promise<Buffer>;
  /** Whether `bytes` is a record framed with this codec's own schema id (written with its schema). */
  isOwn(bytes: Buffer | null): boolean;
  decode(bytes: Buffer | null): Promise<T>;
}

export interface CodecOptions {
  /**
   * Decode only these top-level fields of the record (an Avro reader schema of them, resolved
   * against each record's writer schema): the others are skipped, not materialised. The decoded
   * value then holds only these fields; encoding still takes and checks a whole record.
   */
  readonly readFields?: readonly string[];
}

type AvroType = (typeof SCHEMAS)[SchemaName]['type'];
type Resolver = ReturnType<AvroType['createResolver']>;

/**
 * The reader type of some top-level fields of a record schema, with their types, defaults and
 * docs as in the full schema (the field types are the full type's own, so a named type defined
 * in a dropped field still resolves).
 */
function projectedType(schemaName: SchemaName, readFields: readonly string[]): AvroType {
  const { type, schema } = SCHEMAS[schemaName];
  const record = type as avro.types.RecordType;
  const fields = (schema as { fields: { name: string }[] }).fields;
  const unknown = readFields.filter((name) => !fields.some((f) => f.name === name));
  if (unknown.length > 0) throw new BusError('BUS_ERR_SCHEMA', `${schemaName} has no field ${unknown.join(', ')}`);
  return avro.Type.forSchema({
    ...(schema as object),
    fields: fields.filter((f) => readFields.includes(f.name)).map((f) => ({ ...f, type: record.field(f.name)!.type })),
  } as avro.Schema) as AvroType;
}

/** The Confluent wire format: magic byte 0, the schema id (4 bytes, big-endian), the Avro body. */
export function frame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

// Encoding writes the header and the body into this buffer (grown when a value does not fit),
// then copies them out once: one allocation per record instead of three (body, header, concat).
let scratch = Buffer.alloc(64 * 1024);

/** The scratch buffer's first `end` bytes, an Avro body written from byte 5, framed with the schema id. */
function framedCopy(schemaId: number, end: number): Buffer {
  scratch[0] = 0;
  scratch.writeUInt32BE(schemaId, 1);
  const out = Buffer.allocUnsafe(end);
  scratch.copy(out, 0, 0, end);
  return out;
}

function encodeFramed(type: AvroType, schemaId: number, value: unknown): Buffer {
  for (;;) {
    const end = type.encode(value, scratch, 5);
    if (end >= 0) return framedCopy(schemaId, end);
    // A negative end is the bytes missing.
    scratch = Buffer.alloc(2 * (scratch.length - end));
  }
}

/** A record type's fields split at one record-typed field: those before it, its type, those after. */
interface Split {
  head: AvroType;
  fieldTypeName: string;
  tail: AvroType;
}

function splitAt(schemaName: SchemaName, field: string): Split {
  const { type, schema } = SCHEMAS[schemaName];
  const record = type as avro.types.RecordType;
  const fields = (schema as { fields: { name: string }[] }).fields;
  const at = fields.findIndex((f) => f.name === field);
  const fieldType = at < 0 ? undefined : record.field(field)!.type;
  if (fieldType?.typeName !== 'record') {
    throw new BusError('BUS_ERR_SCHEMA', `${schemaName} has no record field ${field}`);
  }
  // Avro writes a record as its fields one after the other: the head's bytes, the field's
  // record, the tail's bytes are the whole record's.
  const part = (name: string, kept: { name: string }[]) =>
    avro.Type.forSchema({
      type: 'record',
      name: `${record.name}_${name}`,
      fields: kept.map((f) => ({ ...f, type: record.field(f.name)!.type })),
    } as avro.Schema) as AvroType;
  return {
    head: part('head', fields.slice(0, at)),
    fieldTypeName: fieldType.name!,
    tail: part('tail', fields.slice(at + 1)),
  };
}

function encodeSpliced(split: Split, schemaId: number, value: unknown, framed: Buffer): Buffer {
  const body = framed.length - 5;
  for (;;) {
    let end = split.head.encode(value, scratch, 5);
    if (end >= 0 && end + body <= scratch.length) {
      framed.copy(scratch, end, 5);
      end = split.tail.encode(value, scratch, end + body);
      if (end >= 0) return framedCopy(schemaId, end);
    }
    // Too small for the head, the copied record or the tail (a negative end: bytes missing).
    scratch = Buffer.alloc(2 * (scratch.length + body + (end < 0 ? -end : 0)));
  }
}

/**
 * Registers the schema under the topic's value subject (TopicNameStrategy), waiting while the
 * registry is unreachable, and returns its codec. Encoding and decoding our own records never
 * ask the registry; a record of another writer schema asks once for that schema.
 */
export async function createCodec<T>(
  schemas: SchemaCache,
  topic: string,
  schemaName: SchemaName,
  options: CodecOptions = {},
): Promise<Codec<T>> {
  const { type, schema } = SCHEMAS[schemaName];
  const reader = options.readFields ? projectedType(schemaName, options.readFields) : type;
  // Our own records need no registry look-up either way; read projected, they go through a
  // resolver like any other writer's.
  const ownResolver = reader === type ? undefined : reader.createResolver(type);
  let id: number;
  try {
    id = await schemas.idOf(`${topic}-value`, JSON.stringify(schema));
  } catch (err) {
    throw new BusError('BUS_ERR_REGISTRY', `could not register ${schemaName} for ${topic}: ${(err as Error).message}`, {
      retriable: err instanceof RegistryUnavailable,
      cause: err,
    });
  }
  // One resolver per writer schema id, made on the first record of that writer: resolving
  // schemas on every record would cost more than the decoding itself.
  const resolvers = new Map<number, Promise<Resolver>>();
  /** encodeWithFramed's record split per field, made on first use. */
  const splits = new Map<string, Split>();
  function resolverFor(writerId: number): Promise<Resolver> {
    let r = resolvers.get(writerId);
    if (!r) {
      r = schemas.schemaOf(writerId).then((text) => reader.createResolver(avro.Type.forSchema(JSON.parse(text))));
      resolvers.set(writerId, r);
      r.catch(() => resolvers.delete(writerId));
    }
    return r;
  }

  return {
    schemaName,
    schemaId: id,
    async encode(value: T): Promise<Buffer> {
      const bad: string[] = [];
      if (!type.isValid(value, { errorHook: (path) => bad.push(path.join('.') || '(root)') })) {
        throw new BusError('BUS_ERR_SCHEMA', `value does not match ${schemaName} at: ${bad.join(', ')}`);
      }
      return encodeFramed(type, id, value);
    },
    async encodeWithFramed<K extends keyof T & string>(
      value: T,
      field: K,
      framed: Buffer,
      source: Pick<Codec<unknown>, 'schemaName' | 'schemaId'>,
    ): Promise<Buffer> {
      let split = splits.get(field);
      if (!split) {
        split = splitAt(schemaName, field);
        splits.set(field, split);
      }
      if (SCHEMAS[source.schemaName].type.name !== split.fieldTypeName) {
        throw new BusError('BUS_ERR_SCHEMA', `${schemaName}.${field} is not a ${source.schemaName}`);
      }
      if (framed.length < 5 || framed[0] !== 0 || framed.readUInt32BE(1) !== source.schemaId) {
        throw new BusError('BUS_ERR_SCHEMA', `not a ${source.schemaName} record of schema id ${source.schemaId}`);
      }
      const bad: string[] = [];
      const hook = (path: string[]) => bad.push(path.join('.') || '(root)');
      if (!split.head.isValid(value, { errorHook: hook }) || !split.tail.isValid(value, { errorHook: hook })) {
        throw new BusError('BUS_ERR_SCHEMA', `value does not match ${schemaName} at: ${bad.join(', ')}`);
      }
      return encodeSpliced(split, id, value, framed);
    },
    isOwn(bytes: Buffer | null): boolean {
      return bytes !== null && bytes.length >= 5 && bytes[0] === 0 && bytes.readUInt32BE(1) === id;
    },
    async decode(bytes: Buffer | null): Promise<T> {
      if (bytes === null || bytes.length < 5 || bytes[0] !== 0) {
        throw new BusError('BUS_ERR_DECODE', `not a registry-framed Avro ${schemaName} record`);
      }
      const writerId = bytes.readUInt32BE(1);
      let resolver = ownResolver;
      if (writerId !== id) {
        try {
          resolver = await resolverFor(writerId);
        } catch (err) {
          // The registry is away: not the record's fault. The caller retries (the processor
          // aborts the batch and fetches it again) instead of dead-lettering it.
          if (err instanceof RegistryUnavailable) {
            throw new BusError('BUS_ERR_REGISTRY', `schema id ${writerId} of a ${schemaName} record: ${err.message}`, {
              retriable: true,
              cause: err,
            });
          }
          throw new BusError('BUS_ERR_DECODE', `cannot decode ${schemaName} (writer schema id ${writerId})`, {
            cause: err,
          });
        }
      }
      try {
        // No isValid walk of the result (every field of every record): avsc reads only values of
        // the reader's type (enum and union indexes checked, longs refused beyond 2^53, no
        // logical types in our schemas). Read from offset 5 in place: no subarray per record.
        const { value, offset } = reader.decode(bytes, 5, resolver);
        if (offset !== bytes.length) throw new Error(offset < 0 ? 'truncated record' : 'trailing bytes');
        return value as T;
      } catch (err) {
        throw new BusError('BUS_ERR_DECODE', `cannot decode ${schemaName} (writer schema id ${writerId})`, {
          cause: err,
        });
      }
    },
  };
}
