import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { SCHEMAS } from './schemas.ts';
import { sampleEvent, sampleFileSettings, sampleLemf, sampleMatched, sampleWarrant } from './testing.ts';
import type { FileSettings, MatchedEvent, PartyRole } from './types.ts';

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

  it('LemfDestination: a pinned SFTP host key and file selection round-trip; records written before the fields still decode', () => {
    const { type } = SCHEMAS.LemfDestination;
    const pinned = sampleLemf({
      transport: 'SFTP',
      files: sampleFileSettings({ hostKeySha256: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' }),
    });
    expect(type.fromBuffer(type.toBuffer(pinned))).toEqual(pinned);
    // the v1 schema as it was before hostKeySha256: its records resolve with the field null
    const before = JSON.parse(JSON.stringify(type.schema()), (k, v) =>
      k === 'fields' && Array.isArray(v)
        ? v.filter((f: { name: string }) => !['hostKeySha256', 'streams', 'format'].includes(f.name))
        : v,
    );
    const oldType = avro.Type.forSchema(before);
    const { hostKeySha256: _, streams: _s, format: _f, ...oldFiles } = sampleFileSettings();
    const old = oldType.toBuffer(sampleLemf({ transport: 'SFTP', files: oldFiles }));
    const decoded = type.fromBuffer(old, type.createResolver(oldType)) as { files: FileSettings };
    expect(decoded.files.hostKeySha256).toBeNull();
    // ... and with today's file selection: IRI and CC, as TS 102 232
    expect([decoded.files.streams, decoded.files.format]).toEqual([['HI2', 'HI3'], 'TS102232']);
    // decoded with the writer's schema alone (as the registry client does), the field is absent and still valid
    expect(type.isValid(oldType.fromBuffer(old))).toBe(true);
  });

  it('Warrant: Italian type, technical data and incomplete targets round-trip; records written before them still decode', () => {
    const { type } = SCHEMAS.Warrant;
    const w = sampleWarrant({
      targets: [{ id: 't1', type: 'E164', value: '+39061234', incomplete: true }],
    });
    w.italian = {
      ...w.italian!,
      interceptionType: 'AMBIENTALE',
      technicalData: {
        supportServer: 'srv1.procura.example',
        listeningSessionNumber: '42',
        addressBook: 'RUB-7',
        supportLines: ['+390611111111'],
        ftpServerAddress: 'ftps://ftp.procura.example/in',
        recordedAtMicros: 1_797_000_000_000_000,
      },
    };
    expect(type.fromBuffer(type.toBuffer(w))).toEqual(w);
    const dropped = ['interceptionType', 'technicalData', 'incomplete'];
    const before = JSON.parse(JSON.stringify(type.schema()), (k, v) =>
      k === 'fields' && Array.isArray(v) ? v.filter((f: { name: string }) => !dropped.includes(f.name)) : v,
    );
    const oldType = avro.Type.forSchema(before);
    const { interceptionType: _i, technicalData: _t, ...oldItalian } = sampleWarrant().italian!;
    const bytes = oldType.toBuffer({
      ...sampleWarrant(),
      italian: oldItalian,
      targets: [{ id: 't1', type: 'E164', value: '+390612345678' }],
    });
    const read = type.fromBuffer(bytes, type.createResolver(oldType)) as ReturnType<typeof sampleWarrant>;
    expect(read.targets[0]!.incomplete).toBe(false);
    expect([read.italian!.interceptionType, read.italian!.technicalData]).toEqual([null, null]);
    expect(type.isValid(oldType.fromBuffer(bytes))).toBe(true);
  });

  it('LemfDestination: a record of the schema before pipe entries and allowInsecure decodes, insecure and without entry', () => {
    const { type } = SCHEMAS.LemfDestination;
    // the v1 schema as it was: pipe {command, args}, no allowInsecure
    const before = JSON.parse(JSON.stringify(type.schema()), (k, v) => {
      if (k !== 'fields' || !Array.isArray(v)) return v;
      if (v.some((f: { name: string }) => f.name === 'entry'))
        return [
          { name: 'command', type: 'string' },
          { name: 'args', type: { type: 'array', items: 'string' }, default: [] },
        ];
      return v.filter((f: { name: string }) => f.name !== 'allowInsecure');
    });
    const oldType = avro.Type.forSchema(before);
    const { allowInsecure: _, ...old } = sampleLemf({ transport: 'PIPE' });
    const bytes = oldType.toBuffer({ ...old, pipe: { command: '/bin/sh', args: ['-c', 'x'] } });
    const read = type.fromBuffer(bytes, type.createResolver(oldType)) as { allowInsecure: boolean; pipe: unknown };
    expect(read.allowInsecure).toBe(false);
    expect(read.pipe).toEqual({ entry: '' });
    // as the registry client decodes it (writer's schema alone): still a valid LemfDestination
    expect(type.isValid(oldType.fromBuffer(bytes))).toBe(true);
  });

  it('LemfDestination: a record of the schema before ipsec decodes without a tunnel; ipsec settings round-trip', () => {
    const { type } = SCHEMAS.LemfDestination;
    const before = JSON.parse(JSON.stringify(type.schema()), (k, v) =>
      k === 'fields' && Array.isArray(v) ? v.filter((f: { name: string }) => f.name !== 'ipsec') : v,
    );
    const oldType = avro.Type.forSchema(before);
    const { ipsec: _, ...old } = sampleLemf();
    const read = type.fromBuffer(oldType.toBuffer(old), type.createResolver(oldType)) as { ipsec: unknown };
    expect(read.ipsec).toBeNull();
    const ipsec = {
      profile: 'it-annex2',
      gateway: '192.0.2.1',
      localAddress: null,
      localTs: ['10.1.0.0/24'],
      remoteTs: ['10.2.0.0/24'],
      localId: null,
      remoteId: null,
      pskRef: 'psk',
      certRef: null,
      keyRef: null,
      caRef: null,
    };
    const lemf = sampleLemf({ ipsec });
    expect(type.fromBuffer(type.toBuffer(lemf))).toEqual(lemf);
  });

  it('reads a MatchedEvent written before matchedParties and courtCaseId existed (defaults)', () => {
    const { type } = SCHEMAS.MatchedEvent;
    const old = { ...sampleMatched() };
    delete old.matchedParties;
    delete old.courtCaseId;
    expect(type.isValid(old)).toBe(true);
    const writer = avro.Type.forSchema(
      JSON.parse(
        JSON.stringify(SCHEMAS.MatchedEvent.schema, (k, v) =>
          k === 'fields' && Array.isArray(v)
            ? v.filter((f: { name: string }) => f.name !== 'matchedParties' && f.name !== 'courtCaseId')
            : v,
        ),
      ),
    );
    const read = type.fromBuffer(writer.toBuffer(old), type.createResolver(writer));
    expect(read.matchedParties).toEqual([]);
    expect(read.courtCaseId).toBe('');
  });

  it('enum defaults: a symbol added by a newer writer resolves to the default, and the registered schema says so', () => {
    const { type, schema } = SCHEMAS.MatchedEvent;
    expect(JSON.stringify(schema)).toContain('"name":"li.v1.PartyRole","type":"enum"');
    expect(JSON.stringify(schema)).toMatch(/"OTHER"\],"default":"OTHER"/);
    expect(JSON.stringify(SCHEMAS.LemfDestination.schema)).toContain('"default":"GENERALIZED_TIME"}');
    // a newer writer with a role this reader does not know
    const newer = avro.Type.forSchema(
      JSON.parse(JSON.stringify(schema).replace('"OTHER"],"default"', '"OTHER","WITNESS"],"default"')),
    );
    const written = sampleMatched({ matchedRoles: ['WITNESS' as PartyRole, 'CALLEE'] });
    const read = type.fromBuffer(newer.toBuffer(written), type.createResolver(newer)) as MatchedEvent;
    expect(read.matchedRoles).toEqual(['OTHER', 'CALLEE']);
    // the schema without defaults (as registered before) reads records of the new one: BACKWARD
    const before = avro.Type.forSchema(JSON.parse(JSON.stringify(schema).replaceAll(',"default":"OTHER"', '')));
    const known = sampleMatched();
    expect(before.fromBuffer(type.toBuffer(known), before.createResolver(type))).toEqual(known);
  });

  it('rejects a record with a field of the wrong type, naming the field', () => {
    const bad = { ...sampleEvent(), occurredAtMicros: 'yesterday' };
    const paths: string[] = [];
    SCHEMAS.NormalizedEvent.type.isValid(bad, { errorHook: (path) => paths.push(path.join('.')) });
    expect(paths).toEqual(['occurredAtMicros']);
  });

  it('produces self-contained schemas the registry can store', () => {
    const text = JSON.stringify(SCHEMAS.MatchedEvent.schema);
    expect(text).toContain('"name":"li.v1.NormalizedEvent"');
    expect(text).toContain('"symbols":["LOGIN"');
  });
});
