import { describe, expect, it } from 'vitest';
import { SCHEMAS } from './schemas.ts';
import { sampleEvent, sampleLemf, sampleMatched, sampleWarrant } from './testing.ts';
import { EVENT_CATEGORIES, IDENTIFIER_TYPES, PARTY_ROLES } from './types.ts';

describe('schemas', () => {
  it('accepts a sample of every record type and round-trips it', () => {
    const samples = {
      NormalizedEvent: sampleEvent(),
      MatchedEvent: sampleMatched(),
      Warrant: sampleWarrant(),
      LemfDestination: sampleLemf(),
      Tenant: {
        id: 'acme',
        name: 'Acme',
        defaultCountryCode: '39',
        nationalTrunkPrefix: null,
        version: 1,
        createdAtMicros: 1,
      },
      AuditRecord: {
        tenant: 'acme',
        seq: 0,
        atMicros: 1,
        actor: 'alice',
        role: 'provisioner',
        action: 'warrant.activate',
        objectType: 'WARRANT',
        objectId: 'IT:LIID0001',
        before: null,
        after: '{}',
        reason: null,
        prevHash: '0'.repeat(64),
        hash: 'a'.repeat(64),
      },
    };
    for (const [name, sample] of Object.entries(samples)) {
      const { type } = SCHEMAS[name as keyof typeof SCHEMAS];
      const errors: string[] = [];
      type.isValid(sample, { errorHook: (path) => errors.push(path.join('.')) });
      expect(errors, name).toEqual([]);
      expect(type.fromBuffer(type.toBuffer(sample))).toEqual(sample);
    }
  });

  it('rejects a record with a field of the wrong type, naming the field', () => {
    const bad = { ...sampleEvent(), occurredAtMicros: 'yesterday' };
    const paths: string[] = [];
    SCHEMAS.NormalizedEvent.type.isValid(bad, { errorHook: (path) => paths.push(path.join('.')) });
    expect(paths).toEqual(['occurredAtMicros']);
  });

  it('keeps the TypeScript enums equal to the Avro enums', () => {
    const schema = JSON.stringify(SCHEMAS.NormalizedEvent.schema);
    for (const symbol of [...EVENT_CATEGORIES, ...IDENTIFIER_TYPES, ...PARTY_ROLES]) {
      expect(schema).toContain(`"${symbol}"`);
    }
  });

  it('produces self-contained schemas the registry can store', () => {
    const text = JSON.stringify(SCHEMAS.MatchedEvent.schema);
    expect(text).toContain('"name":"li.v1.NormalizedEvent"');
    expect(text).toContain('"symbols":["LOGIN"');
  });
});
