// Avro values framed for the schema registry (Confluent wire format), one codec per topic.
// Values are checked against the schema before encoding, so a bad record fails with the
// paths of its bad fields instead of an opaque serializer error. Records are read with our
// schema as the reader's: a writer's newer enum symbol reads as the enum's default, and a
// field it lacks as the field's default (Avro schema resolution).
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { SCHEMAS, type SchemaName } from '@li/schemas';
import { BusError } from './errors.ts';

export interface Codec<T> {
  readonly schemaName: SchemaName;
  readonly schemaId: number;
  encode(value: T): Promise<Buffer>;
  decode(bytes: Buffer | null): Promise<T>;
}

type AvroType = (typeof SCHEMAS)[SchemaName]['type'];
type Resolver = ReturnType<AvroType['createResolver']>;

export function createRegistry(url: string): SchemaRegistry {
  return new SchemaRegistry({ host: url, retry: { retries: 3 } });
}

/** Registers the schema under the topic's value subject (TopicNameStrategy) and returns its codec. */
export async function createCodec<T>(
  registry: SchemaRegistry,
  topic: string,
  schemaName: SchemaName,
): Promise<Codec<T>> {
  const { type, schema } = SCHEMAS[schemaName];
  let id = 0;
  // Services starting together may register the same subject at once; the loser of that race
  // fails on the subject's compatibility rule, and finds everything in place when it tries again.
  for (let attempt = 1; ; attempt++) {
    try {
      ({ id } = await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject: `${topic}-value` },
      ));
      break;
    } catch (err) {
      if (attempt < 5) {
        await new Promise((r) => setTimeout(r, 100 * attempt));
        continue;
      }
      throw new BusError(
        'BUS_ERR_REGISTRY',
        `could not register ${schemaName} for ${topic}: ${(err as Error).message}`,
        {
          retriable: true,
          cause: err,
        },
      );
    }
  }
  // One resolver per writer schema id, made on the first record of that writer: resolving
  // schemas on every record would cost more than the decoding itself.
  const resolvers = new Map<number, Promise<Resolver>>();
  function resolverFor(writerId: number): Promise<Resolver> {
    let r = resolvers.get(writerId);
    if (!r) {
      r = registry.getSchema(writerId).then((writer) => type.createResolver(writer as AvroType));
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
      return registry.encode(id, value);
    },
    async decode(bytes: Buffer | null): Promise<T> {
      if (bytes === null || bytes.length < 5 || bytes[0] !== 0) {
        throw new BusError('BUS_ERR_DECODE', `not a registry-framed Avro ${schemaName} record`);
      }
      const writerId = bytes.readUInt32BE(1);
      try {
        const payload = bytes.subarray(5);
        const value =
          writerId === id ? type.fromBuffer(payload) : type.fromBuffer(payload, await resolverFor(writerId));
        if (!type.isValid(value)) throw new Error(`decoded value (schema id ${writerId}) is not a ${schemaName}`);
        return value as T;
      } catch (err) {
        throw new BusError('BUS_ERR_DECODE', `cannot decode ${schemaName} (writer schema id ${writerId})`, {
          cause: err,
        });
      }
    },
  };
}
