// What is wrong with a SIP message that came whole in a datagram but is still worth
// delivering: the problems the TCP framer would refuse, flagged on the event (attribute
// `problems`, codes separated by spaces) instead of dropping the message (RFC 3261 §18.3, §20).
import type { IngestErrorCode } from '../../errors.ts';
import { findHeaderEnd, headerAll, type SipMessage } from './message.ts';

export function sipDatagramProblems(m: SipMessage): IngestErrorCode[] {
  const out: IngestErrorCode[] = [];
  if (m.start.version !== '2.0') out.push('ING_ERR_SIP_VERSION');
  if (findHeaderEnd(m.raw) < 0) out.push('ING_ERR_SIP_NO_BLANK_LINE');
  const lengths = headerAll(m, 'content-length');
  if (lengths.length > 1) out.push('ING_ERR_SIP_CL_REPEATED');
  const first = lengths[0];
  if (first !== undefined) {
    if (!/^\d{1,10}$/.test(first)) out.push('ING_ERR_SIP_CL_INVALID');
    else if (Number(first) > m.body.length) out.push('ING_ERR_SIP_CL_BEYOND_DATAGRAM');
  }
  const callIds = headerAll(m, 'call-id');
  if (callIds.length === 0) out.push('ING_ERR_SIP_CALL_ID_MISSING');
  else if (callIds.length > 1) out.push('ING_ERR_SIP_CALL_ID_REPEATED');
  return out;
}
