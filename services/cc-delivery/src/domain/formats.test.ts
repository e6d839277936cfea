import { describe, expect, it } from 'vitest';
import { carriesFormat } from './formats.ts';

describe('carriesFormat', () => {
  it('gives ETSI TCP LEMFs PS-PDUs only and HI2 TCP LEMFs TS 101 671 records only', () => {
    expect(carriesFormat('ETSI_TCP', 'TS102232')).toBe(true);
    expect(carriesFormat('ETSI_TCP', 'TS101671')).toBe(false);
    expect(carriesFormat('HI2_TCP', 'TS101671')).toBe(true);
    expect(carriesFormat('HI2_TCP', 'TS102232')).toBe(false);
  });

  it('lets files, e-mail and PIPE take every format, and unlabelled records go everywhere', () => {
    for (const t of ['FTP', 'SFTP', 'EMAIL', 'PIPE'] as const) {
      expect(carriesFormat(t, 'TS101671')).toBe(true);
      expect(carriesFormat(t, 'TS102232')).toBe(true);
    }
    expect(carriesFormat('ETSI_TCP', undefined)).toBe(true);
  });
});
