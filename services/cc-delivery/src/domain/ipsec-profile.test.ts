import type { IpsecSettings } from '@li/schemas';
import { describe, expect, it } from 'vitest';
import { ipsecConnection, ipsecConnName, saStateOf } from './ipsec-profile.ts';

const annex2: IpsecSettings = {
  profile: 'it-annex2',
  gateway: '192.0.2.10',
  localAddress: '198.51.100.1',
  localTs: ['10.1.0.0/24'],
  remoteTs: ['10.2.0.0/24'],
  localId: null,
  remoteId: null,
  pskRef: 'psk',
  certRef: null,
  keyRef: null,
  caRef: null,
};

describe('IPsec profiles', () => {
  it('it-annex2 is the Annex 2 table: IKEv1 main mode, PSK, aes128-sha1-modp1024, 86400 s, ESP aes128-sha1 tunnel, no PFS', () => {
    const name = ipsecConnName('acme', annex2);
    const c = ipsecConnection(name, annex2)[name] as Record<string, unknown>;
    expect(c).toMatchObject({
      version: '1',
      aggressive: 'no',
      proposals: ['aes128-sha1-modp1024'],
      reauth_time: '86400s',
      local_addrs: ['198.51.100.1'],
      remote_addrs: ['192.0.2.10'],
      local: { auth: 'psk', id: '198.51.100.1' },
      remote: { auth: 'psk', id: '192.0.2.10' },
    });
    const child = (c.children as Record<string, Record<string, unknown>>)[name]!;
    // no DH group in the ESP proposal: no PFS
    expect(child).toMatchObject({
      mode: 'tunnel',
      esp_proposals: ['aes128-sha1'],
      local_ts: ['10.1.0.0/24'],
      remote_ts: ['10.2.0.0/24'],
      start_action: 'trap',
    });
  });

  it('modern is IKEv2 with AES-GCM-256, ECP-256 or X25519, and certificates', () => {
    const s: IpsecSettings = {
      ...annex2,
      profile: 'modern',
      pskRef: null,
      certRef: 'c',
      keyRef: 'k',
      caRef: 'ca',
      remoteId: 'gw.example',
    };
    const name = ipsecConnName('acme', s);
    const cert = Buffer.from('CERT');
    const c = ipsecConnection(name, s, { cert, ca: Buffer.from('CA') })[name] as Record<string, unknown>;
    expect(c).toMatchObject({
      version: '2',
      proposals: ['aes256gcm16-prfsha384-ecp256-x25519'],
      local: { auth: 'pubkey', certs: [cert] },
      remote: { auth: 'pubkey', id: 'gw.example', cacerts: [Buffer.from('CA')] },
    });
    expect(c.aggressive).toBeUndefined();
  });

  it('LEMFs with the same settings share a connection name; other settings or tenants do not', () => {
    expect(ipsecConnName('acme', annex2)).toBe(ipsecConnName('acme', { ...annex2 }));
    expect(ipsecConnName('acme', annex2)).not.toBe(ipsecConnName('acme', { ...annex2, gateway: '192.0.2.11' }));
    expect(ipsecConnName('acme', annex2)).not.toBe(ipsecConnName('other', annex2));
    expect(ipsecConnName('ac/me', annex2)).toMatch(/^li\.ac_me\.[0-9a-f]{8}$/);
  });

  it('reads the state of an IKE SA from a list-sa event: up only with an installed CHILD_SA', () => {
    const ev = {
      n: {
        version: '1',
        state: 'ESTABLISHED',
        'encr-alg': 'AES_CBC',
        'encr-keysize': '128',
        'integ-alg': 'HMAC_SHA1_96',
        'prf-alg': 'PRF_HMAC_SHA1',
        'dh-group': 'MODP_1024',
        'child-sas': {
          'n-1': { uniqueid: '1', state: 'REKEYED', 'bytes-in': '5' },
          'n-2': {
            uniqueid: '2',
            state: 'INSTALLED',
            'bytes-in': '10',
            'bytes-out': '20',
            'encr-alg': 'AES_CBC',
            'encr-keysize': '128',
            'integ-alg': 'HMAC_SHA1_96',
          },
        },
      },
    };
    const s = saStateOf(ev, 'n')!;
    expect(s.up).toBe(true);
    expect(s.ikeProposal).toBe('AES_CBC/128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024');
    expect(s.espProposal).toBe('AES_CBC/128/HMAC_SHA1_96');
    expect([...s.children]).toEqual([['2', { bytesIn: 10, bytesOut: 20 }]]);
    expect(saStateOf(ev, 'other')).toBeNull();
    expect(saStateOf({ n: { ...ev.n, 'child-sas': {} } }, 'n')!.up).toBe(false);
    expect(saStateOf({ n: { ...ev.n, state: 'CONNECTING' } }, 'n')!.up).toBe(false);
  });
});
