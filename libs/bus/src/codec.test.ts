import { SCHEMAS } from '@li/schemas';
import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import avro from 'avsc';
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

  it('refuses a truncated record and one with bytes after the value', async () => {
    const codec = await createCodec(new SchemaCache(memoryRegistry()), 'li.t1.matched', 'MatchedEvent');
    const bytes = await codec.encode(sampleMatched());
    await expect(codec.decode(bytes.subarray(0, bytes.length - 1))).rejects.toThrow(/cannot decode/);
    await expect(codec.decode(Buffer.concat([bytes, Buffer.from([0])]))).rejects.toThrow(/cannot decode/);
  });

  it('refuses a value that does not match the schema, naming the bad field', async () => {
    const codec = await createCodec(new SchemaCache(memoryRegistry()), 'li.t1.matched', 'MatchedEvent');
    await expect(codec.encode({ ...sampleMatched(), liid: 7 } as never)).rejects.toThrow(/at: liid/);
  });
});

describe('codec with readFields (a projected reader schema)', () => {
  const KEPT = ['tenant', 'action', 'communicationId', 'attributes', 'content'] as const;
  const pick = (value: Record<string, unknown>, fields: readonly string[]) =>
    Object.fromEntries(fields.map((f) => [f, value[f]]));
  const schemaWith = (edit: (fields: { name: string }[]) => { name: string }[]) => {
    const schema = SCHEMAS.NormalizedEvent.schema as unknown as { fields: { name: string }[] };
    return JSON.stringify({ ...schema, fields: edit(schema.fields) });
  };

  it('reads the kept fields with the values a full decode gives, and no others', async () => {
    const schemas = new SchemaCache(memoryRegistry());
    const full = await createCodec(schemas, 'li.t1.events', 'NormalizedEvent');
    const projected = await createCodec(schemas, 'li.t1.events', 'NormalizedEvent', { readFields: KEPT });
    expect(projected.schemaId).toBe(full.schemaId);
    for (const event of [
      sampleEvent(),
      sampleEvent({ content: null, attributes: {}, network: null, parties: [] }),
      sampleEvent({ content: Buffer.alloc(100_000, 1), attributes: { method: 'BYE', 'call-id': 'x' } }),
    ]) {
      const bytes = await full.encode(event);
      const value = (await projected.decode(bytes)) as Record<string, unknown>;
      expect(Object.keys(value).sort()).toEqual([...KEPT].sort());
      expect(value).toEqual(pick((await full.decode(bytes)) as Record<string, unknown>, KEPT));
    }
  });

  it('resolves a record of another writer schema against the kept fields only', async () => {
    const api = memoryRegistry();
    const schemas = new SchemaCache(api);
    const projected = await createCodec(schemas, 'li.t1.events', 'NormalizedEvent', { readFields: KEPT });
    // A writer with an extra field and without `network` (dropped, not kept: no matter).
    const writer = avro.Type.forSchema(
      JSON.parse(
        schemaWith((fields) => [
          ...fields.filter((f) => f.name !== 'network'),
          { name: 'extra', type: 'string' } as { name: string },
        ]),
      ),
    );
    const writerId = await api.register('li.t1.events-value', JSON.stringify(writer.schema()));
    const { network: _, ...event } = sampleEvent();
    const bytes = frame(writerId, writer.toBuffer({ ...event, extra: 'e' }));
    expect(await projected.decode(bytes)).toEqual(pick(event, KEPT));
  });

  it('fails to decode a record whose writer lacks a kept field (no default), and refuses an unknown field', async () => {
    const api = memoryRegistry();
    const schemas = new SchemaCache(api);
    const projected = await createCodec(schemas, 'li.t1.events', 'NormalizedEvent', { readFields: KEPT });
    const writer = avro.Type.forSchema(JSON.parse(schemaWith((fields) => fields.filter((f) => f.name !== 'action'))));
    const writerId = await api.register('li.t1.events-value', JSON.stringify(writer.schema()));
    const { action: _, ...event } = sampleEvent();
    await expect(projected.decode(frame(writerId, writer.toBuffer(event)))).rejects.toThrow(/cannot decode/);
    // The same record read whole or without `action` decodes.
    const withoutAction = await createCodec(schemas, 'li.t1.events', 'NormalizedEvent', {
      readFields: KEPT.filter((f) => f !== 'action'),
    });
    expect(await withoutAction.decode(frame(writerId, writer.toBuffer(event)))).toEqual(
      pick(event, ['tenant', 'communicationId', 'attributes', 'content']),
    );
    await expect(
      createCodec(schemas, 'li.t1.events', 'NormalizedEvent', { readFields: ['tenant', 'nope'] }),
    ).rejects.toThrow(/no field nope/);
  });
});

describe('codec encodeWithFramed (a record field copied from a framed record)', () => {
  it('writes the bytes encode writes, for values small and larger than its scratch buffer', async () => {
    const schemas = new SchemaCache(memoryRegistry());
    const events = await createCodec(schemas, 'li.t1.events', 'NormalizedEvent');
    const matched = await createCodec<ReturnType<typeof sampleMatched>>(schemas, 'li.t1.matched', 'MatchedEvent');
    for (const event of [
      sampleEvent(),
      sampleEvent({ content: null, contentType: null, network: null, parties: [], attributes: {} }),
      // Larger than the scratch buffer has grown to in any test before.
      sampleEvent({ content: Buffer.alloc(3_000_000, 3) }),
      sampleEvent({ attributes: { method: 'INVITE', 'li.tap-seq': '0000abcd/7' }, source: 'x2x3' }),
    ]) {
      for (const value of [
        sampleMatched({ event }),
        sampleMatched({ event, lemfIds: [], matchedRoles: [], matchedParties: [], courtCaseId: 'x'.repeat(7_000_000) }),
      ]) {
        const framed = await events.encode(event);
        expect(events.isOwn(framed)).toBe(true);
        // The value's own event is not read: the framed record is.
        const other = { ...value, event: sampleEvent({ eventId: 'not-this-one' }) };
        const bytes = await matched.encodeWithFramed(other, 'event', framed, events);
        expect(bytes.equals(await matched.encode(value))).toBe(true);
        const back = await matched.decode(bytes);
        expect([back.event.eventId, back.courtCaseId?.length]).toEqual([event.eventId, value.courtCaseId?.length]);
      }
    }
  });

  it('refuses a record of another schema id or schema, a field that is not a record, and a bad value', async () => {
    const api = memoryRegistry();
    const schemas = new SchemaCache(api);
    const events = await createCodec(schemas, 'li.t1.events', 'NormalizedEvent');
    const taps = await createCodec(schemas, 'li.t1.taps', 'Tap');
    const matched = await createCodec<ReturnType<typeof sampleMatched>>(schemas, 'li.t1.matched', 'MatchedEvent');
    const value = sampleMatched();
    const framed = await events.encode(value.event);
    const otherId = frame(events.schemaId + 100, framed.subarray(5));
    expect(events.isOwn(otherId)).toBe(false);
    expect(events.isOwn(null)).toBe(false);
    expect(events.isOwn(framed.subarray(0, 4))).toBe(false);
    await expect(matched.encodeWithFramed(value, 'event', otherId, events)).rejects.toThrow(/schema id/);
    await expect(matched.encodeWithFramed(value, 'event', framed, taps)).rejects.toThrow(/is not a Tap/);
    await expect(matched.encodeWithFramed(value, 'liid', framed, events)).rejects.toThrow(/no record field liid/);
    await expect(
      matched.encodeWithFramed({ ...value, warrantVersion: 'one' as unknown as number }, 'event', framed, events),
    ).rejects.toThrow(/at: warrantVersion/);
    await expect(
      matched.encodeWithFramed({ ...value, courtCaseId: 7 as unknown as string }, 'event', framed, events),
    ).rejects.toThrow(/at: courtCaseId/);
  });
});
