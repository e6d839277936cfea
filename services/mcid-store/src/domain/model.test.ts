import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyMemo, keys } from './model.ts';

describe('KeyMemo', () => {
  const kinds = ['tenantAdmin', 'subscriber', 'alias', 'store', 'call', 'registration', 'report', 'ssc'] as const;
  // Few distinct strings, so sequences repeat keys (the memo's hits) and mix kinds over one id.
  const part = fc.oneof(fc.constantFrom('', 't1', 'a/b', 'tenant', 'sub'), fc.string({ maxLength: 6 }));

  it('gives the same strings as keys for any sequence of requests', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...kinds), part, part), { maxLength: 40 }), (requests) => {
        const memo = new KeyMemo();
        for (const [kind, tenant, id] of requests) {
          const expected = kind === 'tenantAdmin' ? keys.tenantAdmin(tenant) : keys[kind](tenant, id);
          const got = kind === 'tenantAdmin' ? memo.tenantAdmin(tenant) : memo[kind](tenant, id);
          expect(got).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});
