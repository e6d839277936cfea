import { describe, expect, it } from 'vitest';
import { deploymentGrants, grantMentionsTenant, operatorGrants } from './access.ts';

const names = (grants: ReturnType<typeof deploymentGrants>) =>
  grants.map((g) => `${g.resource} ${g.pattern} ${g.name} ${g.operations.join(',')}`);

describe('access description', () => {
  it('gives an ingest deployment its tenant’s events and dlq to write, its taps to follow, and nothing else', () => {
    expect(names(deploymentGrants('ingest', ['acme']))).toEqual([
      'TOPIC LITERAL li.acme.taps CREATE,READ',
      'TOPIC LITERAL li.acme.events CREATE,WRITE',
      'TOPIC LITERAL li.acme.dlq CREATE,WRITE',
      // tailTopics' ephemeral groups, which commit nothing
      'GROUP PREFIXED li-read- READ',
      'GROUP PREFIXED li-tail- READ',
    ]);
  });

  it('gives target-match its tenants’ topics, its own group and transactional ids', () => {
    const g = names(deploymentGrants('target-match', ['beta', 'acme']));
    expect(g).toContain('TOPIC LITERAL li.acme.events CREATE,READ');
    expect(g).toContain('TOPIC LITERAL li.beta.warrants CREATE,READ');
    expect(g).toContain('TOPIC LITERAL li.beta.matched CREATE,WRITE');
    expect(g).toContain('TOPIC LITERAL li.beta.taps CREATE,WRITE');
    expect(g).toContain('GROUP LITERAL li.target-match.acme+beta READ');
    expect(g).toContain('TRANSACTIONAL_ID PREFIXED li.target-match.acme+beta. WRITE');
    // The tenant registry (numbering plans) is read, never written.
    expect(g).toContain('TOPIC LITERAL li._system.tenants CREATE,READ');
    expect(g.filter((x) => x.includes('li._system.') && x.includes('WRITE'))).toEqual([]);
    expect(g.filter((x) => x.includes('li.acme.hi2') || x.includes('li.acme.lemfs'))).toEqual([]);
    expect(g.some((x) => x.startsWith('TOPIC PREFIXED'))).toBe(false);
  });

  it('scopes cc-delivery groups per tenant and gives no tenant-scoped service a topic prefix but its per-LEMF topics', () => {
    const g = names(deploymentGrants('cc-delivery', ['acme']));
    expect(g).toContain('GROUP PREFIXED li.cc-delivery.acme. READ,DELETE');
    expect(g).toContain('TRANSACTIONAL_ID PREFIXED li.cc-delivery.acme. WRITE');
    expect(g).toContain('TOPIC LITERAL li.acme.hi2 CREATE,READ');
    expect(g).toContain('TOPIC LITERAL li.acme.delivery-state CREATE,READ,WRITE');
    expect(g).toContain('TOPIC PREFIXED li.acme.lemf. CREATE,READ,WRITE,DELETE');
    for (const s of ['target-match', 'iri-encoder', 'cc-delivery', 'mcid-store'] as const) {
      expect(
        deploymentGrants(s, ['acme'])
          .filter((x) => x.resource === 'TOPIC' && x.pattern === 'PREFIXED')
          .map((x) => x.name),
      ).toEqual(s === 'cc-delivery' ? ['li.acme.lemf.'] : []);
    }
  });

  it('refuses an ingest deployment for two tenants and a bad tenant id', () => {
    expect(() => deploymentGrants('ingest', ['a', 'b'])).toThrow(/exactly one tenant/);
    expect(() => deploymentGrants('target-match', ['a.b'])).toThrow(/invalid tenant/);
    expect(() => deploymentGrants('target-match', [])).toThrow(/at least one/);
  });

  it('knows which grants mention a tenant, and not a tenant whose id only starts the same', () => {
    expect(grantMentionsTenant({ resource: 'TOPIC', name: 'li.acme.events' }, 'acme')).toBe(true);
    expect(grantMentionsTenant({ resource: 'TOPIC', name: 'li.acme-2.events' }, 'acme')).toBe(false);
    expect(grantMentionsTenant({ resource: 'GROUP', name: 'li.target-match.acme+beta' }, 'beta')).toBe(true);
    expect(grantMentionsTenant({ resource: 'GROUP', name: 'li.target-match.acme+beta-2' }, 'beta')).toBe(false);
    expect(grantMentionsTenant({ resource: 'TRANSACTIONAL_ID', name: 'li.iri-encoder.acme.' }, 'acme')).toBe(true);
    expect(grantMentionsTenant({ resource: 'GROUP', name: 'li.cc-delivery.acme.' }, 'acme')).toBe(true);
    expect(grantMentionsTenant({ resource: 'GROUP', name: 'li-read-' }, 'acme')).toBe(false);
  });

  it('gives admf, the operator’s service, every li. topic but no other group', () => {
    const g = names(operatorGrants());
    expect(g).toContain('TOPIC PREFIXED li. CREATE,READ,WRITE');
    expect(g).toContain('GROUP LITERAL li.admf READ');
  });
});
