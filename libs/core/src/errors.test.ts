import { describe, expect, it } from 'vitest';
import { CodedError, defineErrors, unreachable } from './errors.ts';

const ERR = defineErrors('TST', {
  TST_ERR_BAD_INPUT: { message: 'input is not usable', retriable: false, status: 400 },
  TST_ERR_OUTAGE: { message: 'peer unreachable', retriable: true },
});

describe('defineErrors', () => {
  it('makes errors that carry code, message, status and retriability from the table', () => {
    const e = ERR.error('TST_ERR_BAD_INPUT', 'field x');
    expect(e).toBeInstanceOf(CodedError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('TST_ERR_BAD_INPUT');
    expect(e.message).toBe('input is not usable: field x');
    expect(e.status).toBe(400);
    expect(e.retriable).toBe(false);
    expect(ERR.error('TST_ERR_OUTAGE').message).toBe('peer unreachable');
  });

  it('answers 500 for a code without a status, and says which codes are retriable', () => {
    expect(ERR.status('TST_ERR_OUTAGE')).toBe(500);
    expect(ERR.status('TST_ERR_BAD_INPUT')).toBe(400);
    expect(ERR.retriable('TST_ERR_OUTAGE')).toBe(true);
    expect(ERR.codes).toEqual(['TST_ERR_BAD_INPUT', 'TST_ERR_OUTAGE']);
  });

  it('recognises its own errors and no others', () => {
    const other = defineErrors('OTH', { OTH_ERR_X: { message: 'x', retriable: false } });
    expect(ERR.is(ERR.error('TST_ERR_OUTAGE'))).toBe(true);
    expect(ERR.is(ERR.error('TST_ERR_OUTAGE'), 'TST_ERR_BAD_INPUT')).toBe(false);
    expect(ERR.is(other.error('OTH_ERR_X'))).toBe(false);
    expect(ERR.is(new Error('TST_ERR_OUTAGE'))).toBe(false);
  });

  it('keeps the cause', () => {
    const cause = new Error('socket');
    expect(ERR.error('TST_ERR_OUTAGE', undefined, { cause }).cause).toBe(cause);
  });

  it.each([
    ['a code without the prefix', { XYZ_ERR_A: { message: 'a', retriable: false } }, /not TST_ERR_<NAME>/],
    ['a lower-case code', { TST_ERR_a: { message: 'a', retriable: false } }, /not TST_ERR_<NAME>/],
    ['an empty message', { TST_ERR_A: { message: ' ', retriable: false } }, /no message/],
    ['a success status', { TST_ERR_A: { message: 'a', retriable: false, status: 200 } }, /not an HTTP error/],
  ])('refuses a table with %s', (_name, table, expected) => {
    // biome-ignore lint/suspicious/noExplicitAny: the point is a table the types would refuse
    expect(() => defineErrors('TST', table as any)).toThrow(expected);
  });
});

describe('unreachable', () => {
  it('throws naming the unexpected value', () => {
    const kind = 'X400' as 'A' | 'B' | 'X400';
    const f = (k: typeof kind): number => {
      switch (k) {
        case 'A':
        case 'B':
          return 1;
        default:
          // A value the union does not have, as a newer peer would send.
          return unreachable(k as never, 'transport');
      }
    };
    expect(() => f(kind)).toThrow('unexpected transport: X400');
  });
});
