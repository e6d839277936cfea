import { sampleFileSettings, sampleLemf } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { lemfUpdate } from './lemf-update.ts';

describe('lemfUpdate', () => {
  const tcp = sampleLemf({ version: 1 });
  const ftp = sampleLemf({ version: 1, transport: 'FTP', files: sampleFileSettings() });

  it('starts a new LEMF, removes a disabled one and ignores a version it has', () => {
    expect(lemfUpdate(undefined, tcp)).toBe('restart');
    expect(lemfUpdate(tcp, { ...tcp, enabled: false, version: 2 })).toBe('remove');
    expect(lemfUpdate(undefined, { ...tcp, enabled: false })).toBe('remove');
    expect(lemfUpdate(tcp, { ...tcp, address: { host: '10.0.0.9', port: 1 } })).toBe('unchanged');
  });

  it('keeps the queue when only addresses or settings change, restarts on a new kind or batching', () => {
    expect(lemfUpdate(tcp, { ...tcp, version: 2, address: { host: '10.0.0.9', port: 1 } })).toBe('replace-transport');
    expect(lemfUpdate(tcp, { ...tcp, version: 2, transport: 'HI2_TCP' })).toBe('restart');
    expect(lemfUpdate(ftp, { ...ftp, version: 2, files: { ...ftp.files!, maxRecords: 7 } })).toBe('restart');
    expect(lemfUpdate(ftp, { ...ftp, version: 2, files: { ...ftp.files!, username: 'x' } })).toBe('replace-transport');
    // an open file must never take records of the new format or stream
    expect(lemfUpdate(ftp, { ...ftp, version: 2, files: { ...ftp.files!, format: 'TS101671' } })).toBe('restart');
    expect(lemfUpdate(ftp, { ...ftp, version: 2, files: { ...ftp.files!, streams: ['HI2'] } })).toBe('restart');
    // queued records carry the old profile's times
    expect(lemfUpdate(tcp, { ...tcp, version: 2, timestampProfile: 'MILLISECONDS' })).toBe('restart');
  });
});
