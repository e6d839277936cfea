// Records written with a newer schema than ours decode by Avro resolution: a symbol our enum
// lacks reads as the enum's default, a field the writer lacks reads as our field's default.
import { SCHEMAS } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { testInfra, uniqueTenant } from '@li/testing';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createCodec, frame } from '../src/codec.ts';
import { httpRegistryApi, SchemaCache } from '../src/schema-registry.ts';

/** Our LemfDestination schema with a TimestampFormat symbol we do not know and without keepaliveTimeoutSeconds. */
function newerWriterSchema(): unknown {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v);
    if (out.type === 'enum' && String(out.name).endsWith('TimestampFormat'))
      out.symbols = [...(out.symbols as string[]), 'NANOSECOND'];
    if (out.type === 'record' && String(out.name).endsWith('LemfDestination')) {
      out.fields = (out.fields as { name: string }[]).filter((f) => f.name !== 'keepaliveTimeoutSeconds');
    }
    return out;
  };
  return walk(SCHEMAS.LemfDestination.schema);
}

describe('codec decode with our schema as the reader schema', () => {
  it('reads an unknown enum symbol as the enum default and a missing field as its default', async () => {
    const api = httpRegistryApi(testInfra().registryUrl);
    const topic = `li.${uniqueTenant('codec')}.lemfs`;
    const codec = await createCodec<ReturnType<typeof sampleLemf>>(new SchemaCache(api), topic, 'LemfDestination');
    const schema = newerWriterSchema();
    expect(JSON.stringify(schema)).toContain('NANOSECOND');
    const writerId = await api.register(`${topic}-newer-value`, JSON.stringify(schema));
    expect(writerId).not.toBe(codec.schemaId);
    const writer = avro.Type.forSchema(schema as avro.Schema);
    const { keepaliveTimeoutSeconds: _dropped, ...written } = sampleLemf({ timestampFormat: 'MICROSECOND' });
    const newer = frame(writerId, writer.toBuffer({ ...written, timestampFormat: 'NANOSECOND' }));
    const older = frame(writerId, writer.toBuffer(written));

    const fromNewer = await codec.decode(newer);
    expect(fromNewer.timestampFormat).toBe('GENERALIZED_TIME');
    expect(fromNewer.keepaliveTimeoutSeconds).toBe(10);
    expect(fromNewer.id).toBe('lemf-rome');
    // A symbol both schemas know is kept, through the same (cached) resolver.
    expect((await codec.decode(older)).timestampFormat).toBe('MICROSECOND');
    // Our own records still decode as written.
    const own = sampleLemf({ keepaliveTimeoutSeconds: 7 });
    expect(await codec.decode(await codec.encode(own))).toEqual(own);
  });

  it('timestampProfile: a record of an older admf (no field) and an unknown profile both read as ETSI_DEFAULT', async () => {
    const api = httpRegistryApi(testInfra().registryUrl);
    const topic = `li.${uniqueTenant('codec')}.lemfs`;
    const codec = await createCodec<ReturnType<typeof sampleLemf>>(new SchemaCache(api), topic, 'LemfDestination');
    const variant = (edit: (record: Record<string, unknown>) => void) => {
      const walk = (node: unknown): unknown => {
        if (Array.isArray(node)) return node.map(walk);
        if (node === null || typeof node !== 'object') return node;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(node)) out[k] = walk(v);
        if (out.type === 'record' && String(out.name).endsWith('LemfDestination')) edit(out);
        return out;
      };
      return walk(SCHEMAS.LemfDestination.schema);
    };
    const older = variant((r) => {
      r.fields = (r.fields as { name: string }[]).filter((f) => f.name !== 'timestampProfile');
    });
    const newer = variant((r) => {
      for (const f of r.fields as { name: string; type: { symbols: string[] } }[]) {
        if (f.name === 'timestampProfile') f.type.symbols = [...f.type.symbols, 'NANOSECONDS'];
      }
    });
    const id = (schema: unknown, name: string) => api.register(`${topic}-${name}-value`, JSON.stringify(schema));
    // Framed as a producer with that writer schema would write it.
    const encode = (writerId: number, schema: unknown, value: unknown) =>
      frame(writerId, avro.Type.forSchema(schema as avro.Schema).toBuffer(value));
    const { timestampProfile: _none, ...old } = sampleLemf({ timestampProfile: 'MILLISECONDS' });
    expect((await codec.decode(encode(await id(older, 'older'), older, old))).timestampProfile).toBe('ETSI_DEFAULT');
    const newerId = await id(newer, 'newer');
    const unknown = encode(newerId, newer, sampleLemf({ timestampProfile: 'NANOSECONDS' as 'ETSI_DEFAULT' }));
    expect((await codec.decode(unknown)).timestampProfile).toBe('ETSI_DEFAULT');
    const known = encode(newerId, newer, sampleLemf({ timestampProfile: 'MILLISECONDS' }));
    expect((await codec.decode(known)).timestampProfile).toBe('MILLISECONDS');
  });
});
