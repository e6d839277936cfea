import { SCHEMAS } from '@li/schemas';
import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { createCodec, frame } from './codec.ts';
import { type RegistryApi, SchemaCache } from './schema-registry.ts';

function memoryRegistry(): RegistryApi {
  const ids = new Map<string, number>();
  const texts = new Map<number, string>();
  return {
    async register(_subject, schema) {
      let id = ids.get(schema);
      if (id === undefined) {
        id = ids.size + 1;
        ids.set(schema, id);
        texts.set(id, schema);
      }
      return id;
    },
    async schemaById(id) {
      const text = texts.get(id);
      if (text === undefined) throw new Error(`no schema ${id}`);
      return text;
    },
  };
}

describe('codec encode', () => {
  it('writes the framed Avro body, also for values larger than its scratch buffer, and reads it back', async () => {
    const codec = await createCodec(new SchemaCache(memoryRegistry()), 'li.t1.matched', 'MatchedEvent');
    const small = sampleMatched();
    const large = sampleMatched({ event: sampleEvent({ content: Buffer.alloc(200_000, 7) }) });
    for (const value of [small, large, small]) {
      const bytes = await codec.encode(value);
      expect(bytes).toEqual(frame(codec.schemaId, SCHEMAS.MatchedEvent.type.toBuffer(value)));
      expect(await codec.decode(bytes)).toEqual(value);
    }
  });

  it('refuses a value that does not match the schema, naming the bad field', async () => {
    const codec = await createCodec(new SchemaCache(memoryRegistry()), 'li.t1.matched', 'MatchedEvent');
    await expect(codec.encode({ ...sampleMatched(), liid: 7 } as never)).rejects.toThrow(/at: liid/);
  });
});
