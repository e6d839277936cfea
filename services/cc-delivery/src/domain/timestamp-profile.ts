// A LEMF's timestamp profile (LemfDestination.timestampProfile, rows in TIMESTAMP_PROFILE_RULES):
// the encoder writes each record once per LIID with full precision, and delivery writes its times
// as each LEMF asks (header time fields, GeneralizedTime fraction digits, qualifier) before the
// record is queued; the keep-alives and acknowledgement requests we write ourselves follow it too.
import { applyTimeRulesToHi2, applyTimeRulesToPsPdu, keepsEncoding } from '@li/etsi';
import { TIMESTAMP_PROFILE_RULES, type TimestampProfile, type TimestampProfileRules } from '@li/schemas';
import { fail, ok, type Result } from '../errors.ts';
import type { DeliveryRecord, KeepaliveCodec } from './types.ts';

// A profile a newer admf wrote and this build does not know reads as ETSI_DEFAULT (the Avro
// enum's default); the lookup falls back the same way for values that never went through Avro.
const rulesOf = (profile: TimestampProfile): TimestampProfileRules =>
  TIMESTAMP_PROFILE_RULES[profile] ?? TIMESTAMP_PROFILE_RULES.ETSI_DEFAULT;

/** True when the profile sends records as the encoder wrote them. */
export function keepsRecords(profile: TimestampProfile): boolean {
  return keepsEncoding(rulesOf(profile));
}

/**
 * The record with its times written as the profile says. Reports (seed 000 text) carry no ETSI
 * time; TS 101 671 records take the fraction digits only (they have no PSHeader). A record whose
 * times cannot be rewritten fails with DLV_ERR_TIMESTAMP_PROFILE (dead-lettered, the rest goes on).
 */
export function withTimestampProfile(r: DeliveryRecord, profile: TimestampProfile): Result<DeliveryRecord> {
  const rules = rulesOf(profile);
  if (r.stream === 'REPORT' || keepsEncoding(rules)) return ok(r);
  // without an li.format header, the outer tag tells: a PS-PDU is a SEQUENCE, IRIsContent a [0]/[1] CHOICE
  const hi2 = r.format ? r.format === 'TS101671' : r.bytes[0] !== 0x30;
  const out = hi2 ? applyTimeRulesToHi2(r.bytes, rules) : applyTimeRulesToPsPdu(r.bytes, rules);
  if (!out.ok) return fail('DLV_ERR_TIMESTAMP_PROFILE', `${profile}: ${out.reason}`);
  return ok({ ...r, bytes: out.value });
}

/** The TRI codec of one LEMF: the PDUs we write (keep-alives, their answers, ack requests) follow its profile. */
export function profiledCodec(codec: KeepaliveCodec, profile: TimestampProfile): KeepaliveCodec {
  const rules = rulesOf(profile);
  if (keepsEncoding(rules)) return codec;
  // Our own PDUs always rewrite; should one not, it goes as written rather than not at all.
  const apply = (pdu: Uint8Array) => {
    const out = applyTimeRulesToPsPdu(pdu, rules);
    return out.ok ? out.value : pdu;
  };
  return {
    keepalive: (seq) => apply(codec.keepalive(seq)),
    ackRequest: (pdu) => apply(codec.ackRequest(pdu)),
    classify(pdu) {
      const c = codec.classify(pdu);
      return c.kind === 'keepalive' ? { kind: 'keepalive', reply: apply(c.reply) } : c;
    },
  };
}
