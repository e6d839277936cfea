// Sample records, valid against the schemas: a starting point for tests in every package.
import { randomUUID } from 'node:crypto';
import type { FileSettings, LemfDestination, MatchedEvent, NormalizedEvent, Warrant } from './types.ts';

/**
 * A new eventId at each call (unless overridden), as ingest mints one per event: target-match drops
 * an event whose eventId it read already, so samples sharing one would be matched once.
 */
export function sampleEvent(overrides: Partial<NormalizedEvent> = {}): NormalizedEvent {
  return {
    eventId: randomUUID(),
    tenant: 'acme',
    category: 'SIGNALS',
    action: 'sip.invite',
    occurredAtMicros: 1_795_300_000_000_000,
    source: 'sip',
    protocol: 'SIP',
    communicationId: 'a84b4c76e66710@pc33.example.com',
    parties: [
      { role: 'CALLER', type: 'SIP_URI', value: 'sip:alice@example.com' },
      { role: 'CALLEE', type: 'E164', value: '+390612345678' },
    ],
    network: { transport: 'udp', srcAddress: '192.0.2.10', srcPort: 5060, dstAddress: '192.0.2.20', dstPort: 5060 },
    attributes: { method: 'INVITE' },
    content: Buffer.from('INVITE sip:+390612345678@example.com SIP/2.0\r\n\r\n'),
    contentType: 'application/sip',
    ...overrides,
  };
}

export function sampleWarrant(overrides: Partial<Warrant> = {}): Warrant {
  return {
    liid: 'LIID0001',
    tenant: 'acme',
    authorisationCountry: 'IT',
    courtCaseId: 'RG-2026-0042',
    italian: {
      proceedingNumber: '1234/2026',
      ritNumber: '567/2026',
      judge: 'GIP Roma',
      authorisedOfficers: ['officer-1'],
      operator: 'acme-telecom',
      interceptionType: 'TELEFONICA',
      technicalData: null,
    },
    interceptionKind: 'VOICE',
    targets: [{ id: 't1', type: 'E164', value: '+390612345678', incomplete: false }],
    selection: {
      login: true,
      signals: true,
      media: true,
      newMail: false,
      sentMail: false,
      mailbox: false,
      access: false,
      partial: false,
      deletedMail: false,
    },
    deliver: 'IRI_AND_CC',
    lemfIds: ['lemf-rome'],
    validFromMicros: 1_795_000_000_000_000,
    validUntilMicros: 1_800_000_000_000_000,
    state: 'ACTIVE',
    version: 1,
    updatedAtMicros: 1_795_000_000_000_000,
    ...overrides,
  };
}

export function sampleMatched(overrides: Partial<MatchedEvent> = {}): MatchedEvent {
  return {
    liid: 'LIID0001',
    tenant: 'acme',
    authorisationCountry: 'IT',
    warrantVersion: 1,
    deliver: 'IRI_AND_CC',
    lemfIds: ['lemf-rome'],
    matchedRoles: ['CALLEE'],
    matchedAtMicros: 1_795_300_000_000_100,
    event: sampleEvent(),
    matchedParties: [{ role: 'CALLEE', type: 'E164', value: '+390612345678' }],
    courtCaseId: 'RG-2026-0042',
    ...overrides,
  };
}

export function sampleLemf(overrides: Partial<LemfDestination> = {}): LemfDestination {
  return {
    id: 'lemf-rome',
    tenant: 'acme',
    name: 'Rome monitoring centre',
    transport: 'ETSI_TCP',
    address: { host: '127.0.0.1', port: 16000 },
    ccAddress: { host: '127.0.0.1', port: 16001 },
    tls: null,
    keepaliveSeconds: 30,
    keepaliveTimeoutSeconds: 10,
    acknowledged: false,
    timestampFormat: 'GENERALIZED_TIME',
    timestampProfile: 'ETSI_DEFAULT',
    files: null,
    email: null,
    pipe: null,
    ipsec: null,
    allowInsecure: false,
    enabled: true,
    version: 1,
    ...overrides,
  };
}

/** File settings for an FTP/SFTP LEMF; `hostKeySha256` pins the SFTP server's host key. */
export function sampleFileSettings(overrides: Partial<FileSettings> = {}): FileSettings {
  return {
    directory: 'hi2',
    namePattern: '{liid}_{seq:6}.ber',
    maxRecords: 100,
    maxBytes: 1_000_000,
    maxSeconds: 5,
    username: 'mdf',
    credentialRef: 'lemf-rome-sftp',
    hostKeySha256: null,
    streams: ['HI2', 'HI3'],
    format: 'TS102232',
    ...overrides,
  };
}
