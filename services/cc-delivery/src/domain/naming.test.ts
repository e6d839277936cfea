import { describe, expect, it } from 'vitest';
import { compactUtc, formatFileName, validatePattern } from './naming.ts';

describe('file naming', () => {
  it('fills every placeholder', () => {
    const r = formatFileName('{lemf}_{liid}_{seq:6}_{ts}.ber', {
      liid: 'LIID42',
      seq: 7,
      ts: Date.UTC(2026, 10, 21, 22, 5, 3, 9),
      lemf: 'rome',
    });
    expect(r).toEqual({ ok: true, value: 'rome_LIID42_000007_20261121220503009.ber' });
    expect(compactUtc(0)).toBe('19700101000000000');
  });

  it('rejects unknown placeholders, patterns without {seq} and unsafe names', () => {
    expect(validatePattern('{liid}_{foo}_{seq}').ok).toBe(false);
    expect(validatePattern('{liid}.ber').ok).toBe(false);
    expect(validatePattern('../{seq}').ok).toBe(false);
    expect(validatePattern('{liid}_{seq}.ber').ok).toBe(true);
    const r = formatFileName('{liid}_{seq}', { liid: 'a/b', seq: 1, ts: 0, lemf: 'x' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('DLV_ERR_BAD_FILE_NAME');
  });
});
