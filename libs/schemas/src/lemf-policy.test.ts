import { describe, expect, it } from 'vitest';
import { fileSelection, isSecretRef, plaintextSetting, secretRefsOf } from './lemf-policy.ts';
import { sampleFileSettings, sampleLemf } from './testing.ts';

describe('lemf-policy', () => {
  it('a file LEMF written before streams/format existed gets IRI and CC as TS 102 232 only', () => {
    expect(fileSelection(sampleFileSettings())).toEqual({ streams: ['HI2', 'HI3'], format: 'TS102232' });
    expect(fileSelection(sampleFileSettings({ streams: ['HI2'], format: 'TS101671' }))).toEqual({
      streams: ['HI2'],
      format: 'TS101671',
    });
  });

  it('a secret reference is a plain name: no path, no parent, no hidden file', () => {
    for (const ok of ['pw', 'lemf-rome.key', 'ca_2026.pem', 'a.b']) expect(isSecretRef(ok), ok).toBe(true);
    for (const bad of ['', '..', '../beta/pw', 'beta/pw', '/etc/shadow', '.hidden', 'a..b', 'a\\b', 'x'.repeat(129)])
      expect(isSecretRef(bad), bad).toBe(false);
  });

  it('lists every secret reference with its field', () => {
    const d = sampleLemf({
      tls: { caRef: 'ca', certRef: null, keyRef: 'k', serverName: null },
      files: sampleFileSettings({ credentialRef: 'pw' }),
    });
    expect(secretRefsOf(d)).toEqual([
      { field: 'tls.caRef', ref: 'ca' },
      { field: 'tls.keyRef', ref: 'k' },
      { field: 'files.credentialRef', ref: 'pw' },
    ]);
  });

  it('names the setting that makes each plaintext transport secure', () => {
    const tls = { caRef: 'ca', certRef: null, keyRef: null, serverName: null };
    const email = { from: 'a@x', to: ['b@x'], username: null, credentialRef: null, startTls: true };
    expect(plaintextSetting(sampleLemf())?.field).toBe('tls');
    expect(plaintextSetting(sampleLemf({ transport: 'HI2_TCP' }))?.field).toBe('tls');
    expect(plaintextSetting(sampleLemf({ tls }))).toBeNull();
    expect(plaintextSetting(sampleLemf({ transport: 'FTP', files: sampleFileSettings() }))?.field).toBe('transport');
    expect(plaintextSetting(sampleLemf({ transport: 'SFTP', files: sampleFileSettings() }))?.field).toBe(
      'files.hostKeySha256',
    );
    const pinned = sampleFileSettings({ hostKeySha256: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' });
    expect(plaintextSetting(sampleLemf({ transport: 'SFTP', files: pinned }))).toBeNull();
    expect(plaintextSetting(sampleLemf({ transport: 'EMAIL', email: { ...email, startTls: false } }))?.field).toBe(
      'email.startTls',
    );
    expect(plaintextSetting(sampleLemf({ transport: 'EMAIL', email }))).toBeNull();
    expect(plaintextSetting(sampleLemf({ transport: 'PIPE', pipe: { entry: 'x' } }))).toBeNull();
  });
});
