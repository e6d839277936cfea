import { describe, expect, it } from 'vitest';
import { secretRefsOf } from './lemf-policy.ts';
import { sampleFileSettings } from './testing.ts';
import {
  EVENT_ACTIONS,
  IDENTIFIER_TRAITS,
  isKnownAction,
  type SecretRefField,
  TIMESTAMP_PROFILE_RULES,
  TRANSPORT_TRAITS,
  transportCarries,
} from './traits.ts';
import { EVENT_CATEGORIES, IDENTIFIER_TYPES, LEMF_TRANSPORTS, TIMESTAMP_PROFILES } from './types.ts';

describe('IDENTIFIER_TRAITS', () => {
  it('has one entry per identifier type, no more', () => {
    expect(Object.keys(IDENTIFIER_TRAITS).sort()).toEqual([...IDENTIFIER_TYPES].sort());
  });
  it('E164 and TEL_URI share a match space; only IP addresses match a range', () => {
    expect(IDENTIFIER_TRAITS.E164.space).toBe(IDENTIFIER_TRAITS.TEL_URI.space);
    expect(IDENTIFIER_TRAITS.MAIL_ACCOUNT.addressSpace).toBe(IDENTIFIER_TRAITS.EMAIL.space);
    const ranges = IDENTIFIER_TYPES.filter((t) => IDENTIFIER_TRAITS[t].match === 'address-range');
    expect(ranges).toEqual(['IPV4', 'IPV6']);
  });
});

describe('TRANSPORT_TRAITS', () => {
  it('has one entry per transport', () => {
    expect(Object.keys(TRANSPORT_TRAITS).sort()).toEqual([...LEMF_TRANSPORTS].sort());
  });
  it('routes streams and formats as cc-delivery does', () => {
    expect(transportCarries('ETSI_TCP', 'HI2', 'TS102232')).toBe(true);
    expect(transportCarries('ETSI_TCP', 'HI2', 'TS101671')).toBe(false);
    expect(transportCarries('HI2_TCP', 'HI3', 'TS101671')).toBe(true);
    expect(transportCarries('HI2_TCP', 'HI2', 'TS102232')).toBe(false);
    expect(transportCarries('SFTP', 'HI2', 'TS101671')).toBe(true);
    expect(transportCarries('SFTP', 'REPORT')).toBe(false);
    expect(transportCarries('EMAIL', 'REPORT')).toBe(true);
    expect(transportCarries('PIPE', 'HI3')).toBe(false);
    expect(transportCarries('ETSI_TCP', 'HI3')).toBe(true); // records without a format always go
  });
  it('every secret a transport resolves is one secretRefsOf reports', () => {
    const all = secretRefsOf({
      tls: { caRef: 'a', certRef: 'b', keyRef: 'c', serverName: null },
      files: sampleFileSettings({ credentialRef: 'e' }),
      email: { from: 'f', to: ['t'], username: null, credentialRef: 'g', startTls: true },
    }).map((r) => r.field as SecretRefField);
    for (const t of LEMF_TRANSPORTS) for (const s of TRANSPORT_TRAITS[t].secrets) expect(all, t).toContain(s);
  });
});

describe('EVENT_ACTIONS', () => {
  it('has a vocabulary for every category', () => {
    for (const c of EVENT_CATEGORIES) expect(EVENT_ACTIONS[c].length, c).toBeGreaterThan(0);
  });
  it('reads `*` as one producer-filled segment', () => {
    expect(isKnownAction('SIGNALS', 'sip.invite')).toBe(true);
    expect(isKnownAction('SIGNALS', 'sip.response')).toBe(true);
    expect(isKnownAction('LOGIN', 'submission.login')).toBe(true);
    expect(isKnownAction('LOGIN', 'submission.login.failed')).toBe(true);
    expect(isKnownAction('MEDIA', 'x3.rtp')).toBe(true);
    expect(isKnownAction('SIGNALS', 'x3.rtp')).toBe(false);
    expect(isKnownAction('SIGNALS', 'sip.')).toBe(false);
    expect(isKnownAction('SIGNALS', 'sip.a.b')).toBe(false);
    expect(isKnownAction('ACCOUNT', 'account.renamed')).toBe(true);
    expect(isKnownAction('ACCOUNT', 'imap.login')).toBe(false);
  });
});

describe('TIMESTAMP_PROFILE_RULES', () => {
  it('has one row per profile; only ETSI_DEFAULT leaves the records as encoded', () => {
    expect(Object.keys(TIMESTAMP_PROFILE_RULES).sort()).toEqual([...TIMESTAMP_PROFILES].sort());
    const asEncoded = TIMESTAMP_PROFILES.filter((p) => {
      const r = TIMESTAMP_PROFILE_RULES[p];
      return r.headerTime === 'AS_ENCODED' && r.fractionDigits === null && r.headerQualifier === 'AS_ENCODED';
    });
    expect(asEncoded).toEqual(['ETSI_DEFAULT']);
  });
  it('MILLISECONDS writes exactly three fraction digits (receivers on OpenLI decoder library) and keeps the header', () => {
    expect(TIMESTAMP_PROFILE_RULES.MILLISECONDS).toEqual({
      headerTime: 'AS_ENCODED',
      fractionDigits: 3,
      headerQualifier: 'AS_ENCODED',
    });
  });
});
