import { describe, expect, it } from 'vitest';
import { carries } from './formats.ts';

describe('formats', () => {
  it('gives ETSI TCP LEMFs PS-PDUs only and HI2 TCP LEMFs TS 101 671 records only', () => {
    expect(carries('ETSI_TCP', 'HI2', 'TS102232')).toBe(true);
    expect(carries('ETSI_TCP', 'HI2', 'TS101671')).toBe(false);
    expect(carries('HI2_TCP', 'HI2', 'TS101671')).toBe(true);
    expect(carries('HI2_TCP', 'HI2', 'TS102232')).toBe(false);
  });

  it('lets files take every format, and unlabelled records go to every LEMF of their stream', () => {
    for (const t of ['FTP', 'SFTP'] as const) {
      expect(carries(t, 'HI2', 'TS101671')).toBe(true);
      expect(carries(t, 'HI2', 'TS102232')).toBe(true);
    }
    expect(carries('ETSI_TCP', 'HI2', undefined)).toBe(true);
    expect(carries('EMAIL', 'REPORT', 'TS101671')).toBe(true);
  });

  it('carries nothing for a transport it does not know (a newer admf)', () => {
    expect(carries('X400' as never, 'HI2', undefined)).toBe(false);
  });
});

describe('carries', () => {
  it('gives e-mail and PIPE LEMFs reports only, never the HI2/HI3 records of their warrants', () => {
    for (const t of ['EMAIL', 'PIPE'] as const) {
      expect(carries(t, 'REPORT', undefined)).toBe(true);
      expect(carries(t, 'HI2', 'TS102232')).toBe(false);
      expect(carries(t, 'HI2', 'TS101671')).toBe(false);
      expect(carries(t, 'HI3', 'TS102232')).toBe(false);
    }
  });

  it('gives TCP and file LEMFs HI2/HI3 in their formats and no reports', () => {
    expect(carries('ETSI_TCP', 'HI3', 'TS102232')).toBe(true);
    expect(carries('ETSI_TCP', 'HI2', 'TS101671')).toBe(false);
    expect(carries('HI2_TCP', 'HI2', 'TS101671')).toBe(true);
    for (const t of ['FTP', 'SFTP'] as const) {
      expect(carries(t, 'HI2', 'TS101671')).toBe(true);
      expect(carries(t, 'HI3', 'TS102232')).toBe(true);
    }
    for (const t of ['ETSI_TCP', 'HI2_TCP', 'FTP', 'SFTP'] as const)
      expect(carries(t, 'REPORT', undefined)).toBe(false);
  });
});
