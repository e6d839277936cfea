// A LEMF's IPsec settings as the strongSwan connection (VICI load-conn message) that carries its
// traffic. The two profiles are fixed tables: it-annex2 is the Italian Annex 2 (seed 001):
// IKEv1 main mode, PSK, AES-128/SHA-1/MODP-1024, IKE SA 86 400 s, ESP tunnel AES-128/SHA-1 with
// no PFS; modern is IKEv2 with AES-GCM-256, ECP-256 or X25519 and certificates.
import type { IpsecProfile, IpsecSettings } from '@li/schemas';
import type { ViciMessage } from './vici-message.ts';

interface IpsecProfileTable {
  version: '1' | '2';
  /** IKE proposals (swanctl syntax). */
  proposals: string[];
  /** ESP proposals; no DH group in them = no PFS. */
  espProposals: string[];
  auth: 'psk' | 'pubkey';
  /** IKE SA lifetime: IKEv1 re-authenticates (no IKE rekey in IKEv1), IKEv2 rekeys. */
  ikeLifetimeSeconds: number;
  childLifetimeSeconds: number;
}

const IPSEC_PROFILE_TABLES: Record<IpsecProfile, IpsecProfileTable> = {
  'it-annex2': {
    version: '1',
    proposals: ['aes128-sha1-modp1024'],
    espProposals: ['aes128-sha1'],
    auth: 'psk',
    ikeLifetimeSeconds: 86_400,
    // Annex 2 leaves the phase 2 lifetime open; 3600 s is the common value (IT-PROFILE.md §4)
    childLifetimeSeconds: 3_600,
  },
  modern: {
    version: '2',
    proposals: ['aes256gcm16-prfsha384-ecp256-x25519'],
    espProposals: ['aes256gcm16-ecp256-x25519'],
    auth: 'pubkey',
    ikeLifetimeSeconds: 14_400,
    childLifetimeSeconds: 3_600,
  },
};

/**
 * The strongSwan name of the IKE SA and its one CHILD_SA: LEMFs of a tenant with the same settings
 * (one gateway, the same selectors) share a tunnel, as two SAs with the same selectors cannot coexist.
 */
export function ipsecConnName(tenant: string, s: IpsecSettings): string {
  // FNV-1a over the settings: a short stable name (no secrets: refs only)
  let h = 0x811c9dc5;
  for (const ch of JSON.stringify(s)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `li.${tenant.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64)}.${h.toString(16).padStart(8, '0')}`;
}

export interface ConnOptions {
  /** Tests shorten the lifetimes to watch a rekey; production keeps the profile's. */
  lifetimeOverride?: { ikeSeconds: number; childSeconds: number };
  /** Certificates (modern): PEM of our certificate and the CA that signs the gateway's. */
  cert?: Uint8Array;
  ca?: Uint8Array;
}

/**
 * The load-conn message. Policies are trapped (start_action trap): while no SA is up, the kernel
 * holds packets to the remote selectors instead of routing them in clear; the controller
 * initiates the SA itself and again after it goes down.
 */
export function ipsecConnection(name: string, s: IpsecSettings, o: ConnOptions = {}): ViciMessage {
  const p = IPSEC_PROFILE_TABLES[s.profile as IpsecProfile];
  const ike = o.lifetimeOverride?.ikeSeconds ?? p.ikeLifetimeSeconds;
  const child = o.lifetimeOverride?.childSeconds ?? p.childLifetimeSeconds;
  const psk = p.auth === 'psk';
  const local: ViciMessage = { auth: p.auth };
  const localId = s.localId ?? (psk ? s.localAddress : null);
  if (localId) local.id = localId;
  if (!psk && o.cert) local.certs = [o.cert];
  const remote: ViciMessage = { auth: p.auth };
  const remoteId = s.remoteId ?? (psk ? s.gateway : null);
  if (remoteId) remote.id = remoteId;
  if (!psk && o.ca) remote.cacerts = [o.ca];
  return {
    [name]: {
      version: p.version,
      ...(p.version === '1' ? { aggressive: 'no' } : {}),
      local_addrs: [s.localAddress ?? '%any'],
      remote_addrs: [s.gateway],
      proposals: p.proposals,
      // IKEv1 has no IKE rekey: its SA lifetime is the re-authentication time
      ...(p.version === '1' ? { reauth_time: `${ike}s`, rekey_time: '0' } : { rekey_time: `${ike}s` }),
      dpd_delay: '10s',
      local,
      remote,
      children: {
        [name]: {
          mode: 'tunnel',
          local_ts: s.localTs,
          remote_ts: s.remoteTs,
          esp_proposals: p.espProposals,
          rekey_time: `${child}s`,
          // hard lifetime after the rekey, with room for the exchange (VICI would make it equal)
          life_time: `${child + Math.max(Math.ceil(child / 10), 3)}s`,
          start_action: 'trap',
          dpd_action: 'trap',
          close_action: 'trap',
        },
      },
    },
  };
}

/** What list-sas says about one IKE SA of ours. */
export interface SaState {
  up: boolean;
  /** Installed CHILD_SAs by unique id, with their byte counters. */
  children: Map<string, { bytesIn: number; bytesOut: number }>;
  version: string | null;
  /** e.g. AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024 (the negotiated IKE proposal). */
  ikeProposal: string | null;
  /** e.g. AES_CBC_128/HMAC_SHA1_96 (the negotiated ESP proposal). */
  espProposal: string | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const sect = (v: unknown): ViciMessage | null =>
  v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as ViciMessage) : null;

/** Reads one list-sa event ({ <ike name>: {...} }) for connection `name`; null when it is another's. */
export function saStateOf(event: ViciMessage, name: string): SaState | null {
  const ike = sect(event[name]);
  if (!ike) return null;
  const children = new Map<string, { bytesIn: number; bytesOut: number }>();
  let espProposal: string | null = null;
  for (const c of Object.values(sect(ike['child-sas']) ?? {})) {
    const cs = sect(c);
    if (!cs || str(cs.state) !== 'INSTALLED') continue;
    children.set(str(cs.uniqueid) ?? '?', {
      bytesIn: Number(str(cs['bytes-in']) ?? 0),
      bytesOut: Number(str(cs['bytes-out']) ?? 0),
    });
    espProposal = [str(cs['encr-alg']), str(cs['encr-keysize']), str(cs['integ-alg']), str(cs['dh-group'])]
      .filter(Boolean)
      .join('/');
  }
  const ikeProposal = [
    str(ike['encr-alg']),
    str(ike['encr-keysize']),
    str(ike['integ-alg']),
    str(ike['prf-alg']),
    str(ike['dh-group']),
  ]
    .filter(Boolean)
    .join('/');
  return {
    up: str(ike.state) === 'ESTABLISHED' && children.size > 0,
    children,
    version: str(ike.version),
    ikeProposal: ikeProposal || null,
    espProposal,
  };
}
