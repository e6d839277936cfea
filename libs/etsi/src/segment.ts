// Segmentation of large content (TS 102 232-1 TRIPayload firstSegmentFlag / lastSegmentFlag).
// A message too large for one PDU is sent as consecutive CC PDUs with consecutive sequence
// numbers; a TRI firstSegmentFlag PDU precedes them and a lastSegmentFlag PDU follows. The flag
// PDUs are PDUs of the same (LIID, CIN) stream and take numbers of their own (unlike OpenLI,
// which reuses the CC PDU's number), so every PDU a LEMF receives has a distinct number.

/** Default maximum content octets per PDU (OpenLI uses 64,000 for e-mail CC). */
export const DEFAULT_MAX_SEGMENT = 64_000;

/** Views (no copies) of content in pieces of at most max octets; one piece when it fits. */
export function splitContent(content: Uint8Array, max: number = DEFAULT_MAX_SEGMENT): Uint8Array[] {
  if (!Number.isInteger(max) || max < 1) throw new RangeError('max segment size must be a positive integer');
  if (content.length <= max) return [content];
  const out: Uint8Array[] = [];
  for (let off = 0; off < content.length; off += max)
    out.push(content.subarray(off, Math.min(off + max, content.length)));
  return out;
}
