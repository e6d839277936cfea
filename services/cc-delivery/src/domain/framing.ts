// Splits a TCP byte stream into BER TLVs (TS 102 232-1 cl. 6.3: PDUs back-to-back, the BER length
// is the only framing) or RFC 1006 TPKT packets (some TS 101 671 profiles).

export type Framing = 'ber' | 'tpkt';

/** Total length of the TLV at the start of `buf`, or null if more bytes are needed, or -1 if not BER we accept. */
export function berTlvLength(buf: Uint8Array): number | null {
  if (buf.length < 2) return null;
  let i = 1;
  if ((buf[0]! & 0x1f) === 0x1f) {
    // high tag number form: continuation bytes have the top bit set
    while (i < buf.length && buf[i]! & 0x80) i++;
    i++;
    if (i >= buf.length) return null;
  }
  const first = buf[i]!;
  i++;
  if (first < 0x80) return i + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4) return -1; // indefinite or absurd lengths are not used on this interface
  if (buf.length < i + n) return null;
  let len = 0;
  for (let k = 0; k < n; k++) len = len * 256 + buf[i + k]!;
  return i + n + len;
}

function tpktLength(buf: Uint8Array): number | null {
  if (buf.length < 4) return null;
  if (buf[0] !== 3) return -1;
  return (buf[2]! << 8) | buf[3]!;
}

export function tpktWrap(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 4);
  out[0] = 3;
  out[2] = ((payload.length + 4) >> 8) & 0xff;
  out[3] = (payload.length + 4) & 0xff;
  out.set(payload, 4);
  return out;
}

/**
 * Accumulates chunks and yields whole frames; a framing error is reported once and the buffer
 * dropped. With `maxFrameBytes`, a frame announced longer than that is an error at once (`tooLarge`),
 * so a peer cannot make the buffer grow without bound.
 */
export class FrameReader {
  readonly #framing: Framing;
  readonly #max: number;
  #buf: Uint8Array = new Uint8Array(0);

  constructor(framing: Framing, maxFrameBytes = Number.POSITIVE_INFINITY) {
    this.#framing = framing;
    this.#max = maxFrameBytes;
  }

  push(chunk: Uint8Array): { frames: Uint8Array[]; error: boolean; tooLarge?: boolean } {
    let joined = chunk;
    if (this.#buf.length > 0) {
      joined = new Uint8Array(this.#buf.length + chunk.length);
      joined.set(this.#buf, 0);
      joined.set(chunk, this.#buf.length);
    }
    const frames: Uint8Array[] = [];
    let at = 0;
    for (;;) {
      const rest = joined.subarray(at);
      const len = this.#framing === 'ber' ? berTlvLength(rest) : tpktLength(rest);
      if (len === -1 || (len !== null && len < 2)) {
        this.#buf = new Uint8Array(0);
        return { frames, error: true };
      }
      if (len !== null && len > this.#max) {
        this.#buf = new Uint8Array(0);
        return { frames, error: true, tooLarge: true };
      }
      if (len === null || rest.length < len) break;
      frames.push(this.#framing === 'ber' ? rest.subarray(0, len) : rest.subarray(4, len));
      at += len;
    }
    this.#buf = joined.slice(at);
    return { frames, error: false };
  }
}
