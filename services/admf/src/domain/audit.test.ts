import { describe, expect, it } from 'vitest';
import type { AuditDraft } from './audit.ts';
import { canonicalJson, chainAudit, GENESIS_HASH, verifyAuditChain } from './audit.ts';

const draft = (i: number): AuditDraft => ({
  atMicros: 1000 + i,
  actor: 'u',
  role: 'provisioner',
  action: 'warrant.modify',
  objectType: 'WARRANT',
  objectId: 'IT:A1',
  before: { v: i, b: [1, { z: 1, a: 2 }] },
  after: { v: i + 1 },
});

describe('canonicalJson', () => {
  it('is independent of key order and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } })).toBe('{"a":{"c":null,"d":[1,"x"]},"b":1}');
    expect(canonicalJson({ a: undefined, b: 2 })).toBe(canonicalJson({ b: 2 }));
  });
});

describe('audit hash chain', () => {
  const chain = chainAudit('acme', null, [draft(1), draft(2), draft(3), draft(4)]);

  it('links each record to the previous one and numbers them', () => {
    expect(chain.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(chain[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.prevHash).toBe(chain[i - 1]!.hash);
    expect(verifyAuditChain('acme', chain)).toEqual({ ok: true, count: 4, head: { seq: 4, hash: chain[3]!.hash } });
    // Continuing from a head gives the same chain as building it in one go.
    const a = chainAudit('acme', null, [draft(1), draft(2)]);
    const b = chainAudit('acme', { seq: 2, hash: a[1]!.hash }, [draft(3), draft(4)]);
    expect([...a, ...b]).toEqual(chain);
  });

  it('detects a changed field in any record', () => {
    for (const field of ['actor', 'action', 'before', 'after', 'objectId', 'atMicros'] as const) {
      const copy = chain.map((r) => ({ ...r }));
      (copy[2] as Record<string, unknown>)[field] = field === 'atMicros' ? 1 : 'x';
      expect(verifyAuditChain('acme', copy)).toMatchObject({ ok: false, index: 2, reason: 'HASH_MISMATCH' });
    }
  });

  it('detects a changed record whose hash was recomputed (the next link breaks)', () => {
    const [forged] = chainAudit('acme', { seq: 1, hash: chain[0]!.hash }, [{ ...draft(2), actor: 'mallory' }]);
    const copy = [chain[0]!, forged!, chain[2]!, chain[3]!];
    expect(verifyAuditChain('acme', copy)).toMatchObject({ ok: false, index: 2, reason: 'PREV_HASH_MISMATCH' });
  });

  it('detects deletion, reordering and records of another tenant', () => {
    expect(verifyAuditChain('acme', [chain[0]!, chain[2]!, chain[3]!])).toMatchObject({
      ok: false,
      index: 1,
      reason: 'SEQ_OUT_OF_ORDER',
    });
    expect(verifyAuditChain('acme', [chain[1]!, chain[0]!])).toMatchObject({ ok: false, index: 0 });
    expect(verifyAuditChain('beta', chain)).toMatchObject({ ok: false, reason: 'TENANT_MISMATCH' });
  });

  it('detects a renumbered deletion through the hash links', () => {
    const copy = [chain[0]!, { ...chain[2]!, seq: 2 }];
    expect(verifyAuditChain('acme', copy).ok).toBe(false);
  });

  it('an expected head catches tail truncation', () => {
    const head = { seq: 4, hash: chain[3]!.hash };
    expect(verifyAuditChain('acme', chain.slice(0, 3)).ok).toBe(true);
    expect(verifyAuditChain('acme', chain.slice(0, 3), head)).toMatchObject({ ok: false, reason: 'HEAD_MISMATCH' });
    expect(verifyAuditChain('acme', chain, head).ok).toBe(true);
    expect(verifyAuditChain('acme', chain, { seq: 2, hash: chain[1]!.hash }).ok).toBe(true);
  });
});
