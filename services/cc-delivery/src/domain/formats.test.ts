import type { LemfTransport } from '@li/schemas';
import { sampleFileSettings } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { carries } from './formats.ts';

const on = (transport: LemfTransport) => ({ transport, files: null });
const files = (transport: 'FTP' | 'SFTP', settings: Parameters<typeof sampleFileSettings>[0] = {}) => ({
  transport,
  files: sampleFileSettings(settings),
});

/** A file LEMF of a record written before files.streams/files.format existed. */
const legacy = (transport: 'FTP' | 'SFTP') => {
  const { streams: _s, format: _f, ...rest } = sampleFileSettings();
  return { transport, files: rest };
};

describe('formats', () => {
  it('gives ETSI TCP LEMFs PS-PDUs only and HI2 TCP LEMFs TS 101 671 records only', () => {
    expect(carries(on('ETSI_TCP'), 'HI2', 'TS102232')).toBe(true);
    expect(carries(on('ETSI_TCP'), 'HI2', 'TS101671')).toBe(false);
    expect(carries(on('HI2_TCP'), 'HI2', 'TS101671')).toBe(true);
    expect(carries(on('HI2_TCP'), 'HI2', 'TS102232')).toBe(false);
  });

  it('unlabelled records go to every LEMF of their stream', () => {
    expect(carries(on('ETSI_TCP'), 'HI2', undefined)).toBe(true);
    expect(carries(files('SFTP', { format: 'TS101671' }), 'HI2', undefined)).toBe(true);
    expect(carries(on('EMAIL'), 'REPORT', 'TS101671')).toBe(true);
  });

  it('carries nothing for a transport it does not know (a newer admf)', () => {
    expect(carries(on('X400' as never), 'HI2', undefined)).toBe(false);
  });
});

describe('carries', () => {
  it('gives e-mail and PIPE LEMFs reports only, never the HI2/HI3 records of their warrants', () => {
    for (const t of ['EMAIL', 'PIPE'] as const) {
      expect(carries(on(t), 'REPORT', undefined)).toBe(true);
      expect(carries(on(t), 'HI2', 'TS102232')).toBe(false);
      expect(carries(on(t), 'HI2', 'TS101671')).toBe(false);
      expect(carries(on(t), 'HI3', 'TS102232')).toBe(false);
    }
  });

  it('gives TCP and file LEMFs HI2/HI3 in their formats and no reports', () => {
    expect(carries(on('ETSI_TCP'), 'HI3', 'TS102232')).toBe(true);
    expect(carries(on('ETSI_TCP'), 'HI2', 'TS101671')).toBe(false);
    expect(carries(on('HI2_TCP'), 'HI2', 'TS101671')).toBe(true);
    for (const t of ['FTP', 'SFTP'] as const) {
      expect(carries(files(t), 'HI2', 'TS102232')).toBe(true);
      expect(carries(files(t), 'HI3', 'TS102232')).toBe(true);
    }
    for (const t of ['ETSI_TCP', 'HI2_TCP'] as const) expect(carries(on(t), 'REPORT', undefined)).toBe(false);
    for (const t of ['FTP', 'SFTP'] as const) expect(carries(files(t), 'REPORT', undefined)).toBe(false);
  });

  it('gives a file LEMF one format only: its files never mix the two encodings of an IRI', () => {
    for (const t of ['FTP', 'SFTP'] as const) {
      // default (a record written before files.format existed): TS 102 232
      expect(carries(legacy(t), 'HI2', 'TS102232')).toBe(true);
      expect(carries(legacy(t), 'HI2', 'TS101671')).toBe(false);
      expect(carries(files(t, { format: 'TS101671' }), 'HI2', 'TS101671')).toBe(true);
      expect(carries(files(t, { format: 'TS101671' }), 'HI2', 'TS102232')).toBe(false);
    }
  });

  it('gives a file LEMF the streams it asked for: IRI only, CC only, or both by default', () => {
    const iri = files('SFTP', { streams: ['HI2'] });
    const cc = files('SFTP', { streams: ['HI3'] });
    const both = legacy('SFTP');
    expect([iri, cc, both].map((d) => carries(d, 'HI2', 'TS102232'))).toEqual([true, false, true]);
    expect([iri, cc, both].map((d) => carries(d, 'HI3', 'TS102232'))).toEqual([false, true, true]);
  });
});
