import { sampleLemf } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../domain/manual-clock.ts';
import { batchPolicyFor, createTransport, ErrorTransport } from './transport-factory.ts';

const deps = { clock: new ManualClock(5), secrets: () => null, codec: null };
const files = {
  directory: 'in',
  namePattern: '{liid}_{seq}.ber',
  maxRecords: 10,
  maxBytes: 1000,
  maxSeconds: 2,
  username: 'u',
  credentialRef: null,
};

describe('createTransport', () => {
  it('turns bad config into an ErrorTransport with a clear code instead of throwing', async () => {
    const t = createTransport(sampleLemf({ transport: 'X400' as never }), deps);
    expect(t).toBeInstanceOf(ErrorTransport);
    expect(t.status().lastError?.code).toBe('DLV_ERR_UNKNOWN_TRANSPORT');
    expect(await t.send({ records: [], file: null })).toMatchObject({
      confirmed: 0,
      error: { code: 'DLV_ERR_UNKNOWN_TRANSPORT' },
    });
    expect(createTransport(sampleLemf({ acknowledged: true }), deps).status().lastError?.code).toBe(
      'DLV_ERR_BAD_CONFIG',
    );
    expect(createTransport(sampleLemf({ transport: 'EMAIL', email: null }), deps).status().lastError?.code).toBe(
      'DLV_ERR_BAD_CONFIG',
    );
    expect(createTransport(sampleLemf({ transport: 'PIPE', pipe: null }), deps).status().lastError?.code).toBe(
      'DLV_ERR_BAD_CONFIG',
    );
    const tls = sampleLemf({ tls: { caRef: 'nope', certRef: null, keyRef: null, serverName: null } });
    expect(createTransport(tls, deps).status().lastError?.code).toBe('DLV_ERR_BAD_CONFIG');
  });

  it('builds the named transports', () => {
    expect(createTransport(sampleLemf(), deps).kind).toBe('ETSI_TCP');
    expect(createTransport(sampleLemf({ transport: 'HI2_TCP' }), deps).kind).toBe('HI2_TCP');
    expect(createTransport(sampleLemf({ transport: 'SFTP', files }), deps).kind).toBe('SFTP');
    expect(createTransport(sampleLemf({ transport: 'PIPE', pipe: { command: 'cat', args: [] } }), deps).kind).toBe(
      'PIPE',
    );
  });

  it('derives file batching from the file settings, none for streaming or a bad pattern', () => {
    expect(batchPolicyFor(sampleLemf({ transport: 'FTP', files }))).toEqual({
      maxRecords: 10,
      maxBytes: 1000,
      maxMs: 2000,
      namePattern: '{liid}_{seq}.ber',
    });
    expect(batchPolicyFor(sampleLemf({ files }))).toBeNull();
    expect(batchPolicyFor(sampleLemf({ transport: 'FTP', files: { ...files, namePattern: '{liid}' } }))).toBeNull();
  });
});
