import { describe, expect, it } from 'vitest';
import { ING } from './errors.ts';

describe('ING error table', () => {
  it('gives the mail-events API its statuses and leaves DLQ-only codes without one', () => {
    expect(ING.status('ING_ERR_BAD_MAIL_EVENT')).toBe(400);
    expect(ING.status('ING_ERR_UNAUTHENTICATED')).toBe(401);
    expect(ING.status('ING_ERR_FORBIDDEN')).toBe(403);
    expect(ING.status('ING_ERR_SPOOL_FULL')).toBe(503);
    expect(ING.status('ING_ERR_SPOOL_IO')).toBe(503);
    const withStatus = ING.codes.filter((c) => ING.status(c) !== 500);
    expect(withStatus.sort()).toEqual([
      'ING_ERR_BAD_MAIL_EVENT',
      'ING_ERR_FORBIDDEN',
      'ING_ERR_SPOOL_FULL',
      'ING_ERR_SPOOL_IO',
      'ING_ERR_UNAUTHENTICATED',
    ]);
  });

  it('says undecodable input is not worth retrying', () => {
    expect(ING.retriable('ING_ERR_PCAP_FORMAT')).toBe(false);
    expect(ING.retriable('ING_ERR_X2X3_SOCKET')).toBe(true);
  });
});
