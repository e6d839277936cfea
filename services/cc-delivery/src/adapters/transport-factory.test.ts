import { ManualClock } from '@li/core';
import { sampleLemf } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { createTransport, ErrorTransport } from './transport-factory.ts';

const deps = {
  clock: new ManualClock(5),
  secrets: () => null,
  codec: null,
  pipeCommands: { 'to-lea': { command: '/bin/cat' } },
};
/** sampleLemf is plaintext ETSI TCP: these tests are about other settings. */
const plain = (o: Parameters<typeof sampleLemf>[0] = {}) => sampleLemf({ allowInsecure: true, ...o });
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
    expect(createTransport(plain({ acknowledged: true }), deps).status().lastError?.code).toBe('DLV_ERR_BAD_CONFIG');
    expect(createTransport(sampleLemf({ transport: 'EMAIL', email: null }), deps).status().lastError?.code).toBe(
      'DLV_ERR_BAD_CONFIG',
    );
    expect(createTransport(sampleLemf({ transport: 'PIPE', pipe: null }), deps).status().lastError?.code).toBe(
      'DLV_ERR_BAD_CONFIG',
    );
    const tls = plain({ tls: { caRef: 'nope', certRef: null, keyRef: null, serverName: null } });
    expect(createTransport(tls, deps).status().lastError?.code).toBe('DLV_ERR_BAD_CONFIG');
  });

  it('builds the named transports', () => {
    expect(createTransport(plain(), deps).kind).toBe('ETSI_TCP');
    expect(createTransport(plain({ transport: 'HI2_TCP' }), deps).kind).toBe('HI2_TCP');
    expect(createTransport(plain({ transport: 'SFTP', files }), deps).kind).toBe('SFTP');
    const pipe = createTransport(sampleLemf({ transport: 'PIPE', pipe: { entry: 'to-lea' } }), deps);
    expect(pipe.kind).toBe('PIPE');
    expect(pipe).not.toBeInstanceOf(ErrorTransport);
  });

  it('builds PacketCable (seed 000 pkcable:) only as a plaintext the LEMF accepted', () => {
    const pk = { transport: 'PKT_CABLE' as const, ccAddress: { host: '127.0.0.1', port: 6000 } };
    expect(createTransport(plain(pk), deps).kind).toBe('PKT_CCC');
    expect(createTransport(sampleLemf(pk), deps).status().lastError).toMatchObject({
      code: 'DLV_ERR_INSECURE',
      message: expect.stringMatching(/PKT_CABLE is plaintext; set transport or allowInsecure/),
    });
    expect(createTransport(plain({ ...pk, address: null }), deps).status().lastError?.code).toBe('DLV_ERR_BAD_CONFIG');
  });

  it('refuses a plaintext transport unless the LEMF sets allowInsecure', () => {
    const refused = (d: ReturnType<typeof sampleLemf>) => createTransport(d, deps).status().lastError;
    expect(refused(sampleLemf())).toMatchObject({ code: 'DLV_ERR_INSECURE' });
    expect(refused(sampleLemf())?.message).toMatch(/ETSI_TCP without tls is plaintext; set tls or allowInsecure/);
    expect(refused(sampleLemf({ transport: 'HI2_TCP' }))?.code).toBe('DLV_ERR_INSECURE');
    expect(refused(sampleLemf({ transport: 'FTP', files }))?.code).toBe('DLV_ERR_INSECURE');
    expect(refused(sampleLemf({ transport: 'SFTP', files }))?.message).toMatch(/files.hostKeySha256/);
    const email = { from: 'a@x', to: ['b@x'], username: null, credentialRef: null, startTls: false };
    expect(refused(sampleLemf({ transport: 'EMAIL', email }))?.code).toBe('DLV_ERR_INSECURE');
    // a record written before the field existed has none: refused too
    const { allowInsecure: _, ...old } = plain();
    expect(refused(old as ReturnType<typeof sampleLemf>)?.code).toBe('DLV_ERR_INSECURE');
  });

  it("looks secrets up by plain name in the LEMF's own tenant; a path is refused before any lookup", () => {
    const asked: [string, string][] = [];
    const secrets = (tenant: string, ref: string) => {
      asked.push([tenant, ref]);
      return Buffer.from('pw');
    };
    const ftp = (credentialRef: string) =>
      plain({ tenant: 'acme', transport: 'FTP', files: { ...files, credentialRef } });
    for (const ref of ['../beta/pw', 'beta/pw', '/etc/shadow', '..', '.pw']) {
      const t = createTransport(ftp(ref), { ...deps, secrets });
      expect(t.status().lastError, ref).toMatchObject({ code: 'DLV_ERR_SECRET_REF' });
    }
    const tls = plain({ tls: { caRef: 'ca', certRef: '../beta/cert', keyRef: 'key', serverName: null } });
    expect(createTransport(tls, { ...deps, secrets }).status().lastError?.message).toMatch(/tls.certRef/);
    expect(asked).toEqual([]);
    expect(createTransport(ftp('pw'), { ...deps, secrets }).kind).toBe('FTP');
    expect(asked).toEqual([['acme', 'pw']]);
  });

  it('PIPE: an entry outside the operator allow-list runs nothing', async () => {
    for (const pipe of [{ entry: 'rm-rf' }, { entry: '' }, { entry: 'constructor' }, { command: '/bin/sh' }]) {
      const t = createTransport(sampleLemf({ transport: 'PIPE', pipe: pipe as { entry: string } }), deps);
      expect(t, JSON.stringify(pipe)).toBeInstanceOf(ErrorTransport);
      expect(t.status().lastError?.code).toBe('DLV_ERR_PIPE_ENTRY');
      expect(await t.send({ records: [], file: null })).toMatchObject({ confirmed: 0 });
    }
  });
});
