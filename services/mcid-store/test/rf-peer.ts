// The Diameter identity and peer settings the Rf integration tests share.
import type { AcrIdentity } from '../src/adapters/diameter/acr.ts';
import type { PeerConfig } from '../src/adapters/diameter/peer.ts';

export const identity = {
  originHost: 'mcid-as.test.local',
  originRealm: 'test.local',
  destinationRealm: 'test.local',
  serviceContextId: '32275@3gpp.org',
  privateVendorId: 32473, // RFC 5612 documentation enterprise number
} satisfies AcrIdentity;

/** A peer of `identity` to a CDS on 127.0.0.1:port. */
export function peerConfig(port: number, timeouts: { answerTimeoutMs: number; connectTimeoutMs: number }): PeerConfig {
  return {
    host: '127.0.0.1',
    port,
    originHost: identity.originHost,
    originRealm: identity.originRealm,
    hostIp: '127.0.0.1',
    productName: 'li-mcid-store',
    vendorId: 0,
    privateVendorId: identity.privateVendorId,
    watchdogMs: 30_000,
    ...timeouts,
  };
}
