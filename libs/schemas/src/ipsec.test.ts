import { describe, expect, it } from 'vitest';
import { inCidr, ipsecProblem, parseCidr } from './ipsec.ts';
import { plaintextSetting } from './lemf-policy.ts';
import { sampleLemf } from './testing.ts';
import type { IpsecSettings } from './types.ts';

const annex2: IpsecSettings = {
  profile: 'it-annex2',
  gateway: '192.0.2.10',
  localAddress: null,
  localTs: ['10.1.0.0/24'],
  remoteTs: ['10.2.0.0/24'],
  localId: null,
  remoteId: null,
  pskRef: 'psk',
  certRef: null,
  keyRef: null,
  caRef: null,
};
const lemf = (ipsec: Partial<IpsecSettings>, host = '10.2.0.5') =>
  sampleLemf({
    transport: 'HI2_TCP',
    address: { host, port: 12500 },
    ccAddress: null,
    tls: null,
    ipsec: { ...annex2, ...ipsec },
  });

describe('IPsec settings', () => {
  it('accepts it-annex2 with a PSK and modern with certificates', () => {
    expect(ipsecProblem(lemf({}))).toBeNull();
    expect(ipsecProblem(lemf({ profile: 'modern', pskRef: null, certRef: 'c', keyRef: 'k', caRef: 'ca' }))).toBeNull();
  });

  it('names the field of the first problem', () => {
    const field = (s: Partial<IpsecSettings>, host?: string) => ipsecProblem(lemf(s, host))?.field;
    expect(field({ profile: 'ikev1' })).toBe('ipsec.profile');
    expect(field({ gateway: 'a b' })).toBe('ipsec.gateway');
    expect(field({ localTs: [] })).toBe('ipsec.localTs');
    expect(field({ remoteTs: ['10.2.0.0/33'] })).toBe('ipsec.remoteTs');
    expect(field({ localId: 'x"}' })).toBe('ipsec.localId');
    expect(field({ pskRef: null })).toBe('ipsec.pskRef');
    expect(field({ profile: 'modern', pskRef: null, certRef: 'c', keyRef: null, caRef: 'ca' })).toBe('ipsec.keyRef');
    expect(field({ profile: 'modern', certRef: 'c', keyRef: 'k', caRef: 'ca' })).toBe('ipsec.pskRef');
    // a delivery address outside the LEMF's selectors would not take the tunnel
    expect(field({}, '10.3.0.5')).toBe('address.host');
  });

  it('makes a plaintext transport acceptable: the tunnel encrypts', () => {
    const plain = sampleLemf({ transport: 'HI2_TCP', tls: null });
    expect(plaintextSetting(plain)?.field).toBe('tls');
    expect(plaintextSetting(lemf({}))).toBeNull();
  });

  it('parses CIDRs and tells IPv4 containment', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ v4: true, base: '10.0.0.0', bits: 8 });
    expect(parseCidr('2001:db8::/32')?.v4).toBe(false);
    expect(parseCidr('10.0.0.0')).toBeNull();
    expect(inCidr('10.2.0.5', '10.2.0.0/24')).toBe(true);
    expect(inCidr('10.2.1.5', '10.2.0.0/24')).toBe(false);
    expect(inCidr('10.2.1.5', '0.0.0.0/0')).toBe(true);
    expect(inCidr('lemf.example', '10.2.0.0/24')).toBeNull();
  });
});
