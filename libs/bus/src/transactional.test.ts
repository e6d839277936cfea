import { describe, expect, it } from 'vitest';
import { BusError } from './errors.ts';
import { isFencedError } from './transactional.ts';

describe('isFencedError', () => {
  it('finds the broker fencing answer however kafkajs wraps it', () => {
    const protocol = Object.assign(new Error('old epoch'), { type: 'INVALID_PRODUCER_EPOCH' });
    expect(isFencedError(protocol)).toBe(true);
    expect(isFencedError(Object.assign(new Error('retries'), { originalError: protocol }))).toBe(true);
    expect(isFencedError(new Error('wrapped', { cause: { type: 'PRODUCER_FENCED' } }))).toBe(true);
    expect(isFencedError(new BusError('BUS_ERR_FENCED', 'fenced'))).toBe(true);
  });
  it('is false for other failures', () => {
    expect(isFencedError(Object.assign(new Error('x'), { type: 'REQUEST_TIMED_OUT' }))).toBe(false);
    expect(isFencedError(new BusError('BUS_ERR_DECODE', 'x'))).toBe(false);
    expect(isFencedError(undefined)).toBe(false);
  });
});
