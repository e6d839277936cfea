// SIP found by content on TCP flows no port-based decoder took: a plain SIP stream on any port
// (a TLS-terminating mirror hands over plaintext SIP on 5061 or 443) and SIP over WebSocket
// (RFC 7118: one SIP message per WebSocket message, RFC 6455 framing, masked from the client).
// Each direction's first octets are held until they decide; a flow that is neither is
// followed without holding anything.
import type { NetworkInfo } from '@li/schemas';
import type { DecoderSink, Direction, FlowEndpoints, StreamDecoder, StreamDecoderFactory } from '../stream.ts';
import { createSipStreamDecoder, emitter } from './decoder.ts';
import { findHeaderEnd, MAX_BODY_BYTES, MAX_HEADER_BYTES, parseStartLine } from './message.ts';

/** Octets of a direction looked at for a SIP start line or a WebSocket upgrade before giving up. */
const SNIFF_BYTES = 4096;
/** A WebSocket message (one SIP message) larger than this is skipped. */
const MAX_WS_MESSAGE = MAX_HEADER_BYTES + MAX_BODY_BYTES;

const HTTP_LINE = /^[A-Z]+ \S+ HTTP\/\d/;

type Mode = 'sniff' | 'sip' | 'ws' | 'other';

/** Offset of the first line (within the first SNIFF_BYTES) that is a SIP start line, or -1. */
function sipStartAt(b: Buffer): number {
  let s = 0;
  const limit = Math.min(b.length, SNIFF_BYTES);
  while (s < limit) {
    const nl = b.indexOf(10, s);
    if (nl < 0 || nl >= limit) return -1;
    if (parseStartLine(b.toString('latin1', s, nl))) return s;
    s = nl + 1;
  }
  return -1;
}

/** 'ws': an HTTP upgrade to WebSocket; 'no': something else; 'more': undecided yet. */
function upgradeRequest(b: Buffer): 'ws' | 'no' | 'more' {
  const first = b.toString('latin1', 0, Math.min(b.length, 5));
  if (!'GET /'.startsWith(first) && !first.startsWith('GET ')) return 'no';
  const end = findHeaderEnd(b);
  if (end < 0) return b.length > SNIFF_BYTES ? 'no' : 'more';
  return /\r?\nupgrade:[ \t]*websocket[ \t]*\r?\n/i.test(b.toString('latin1', 0, end)) ? 'ws' : 'no';
}

interface Frame {
  fin: boolean;
  opcode: number;
  rsv1: boolean;
  /** Octets of the frame header; payload follows. */
  head: number;
  length: number;
  mask: Buffer | null;
}

/** Reads a WebSocket frame header (RFC 6455 §5.2); null when more octets are needed. */
function frameHeader(b: Buffer, at: number): Frame | null {
  if (b.length - at < 2) return null;
  const b0 = b[at] as number;
  const b1 = b[at + 1] as number;
  let length = b1 & 0x7f;
  let head = 2;
  if (length === 126) {
    if (b.length - at < 4) return null;
    length = b.readUInt16BE(at + 2);
    head = 4;
  } else if (length === 127) {
    if (b.length - at < 10) return null;
    const big = b.readBigUInt64BE(at + 2);
    length = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
    head = 10;
  }
  let mask: Buffer | null = null;
  if (b1 & 0x80) {
    if (b.length - at < head + 4) return null;
    mask = b.subarray(at + head, at + head + 4);
    head += 4;
  }
  return { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, rsv1: (b0 & 0x40) !== 0, head, length, mask };
}

function unmask(payload: Buffer, mask: Buffer | null): Buffer {
  const out = Buffer.from(payload);
  if (mask) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) ^ (mask[i & 3] as number);
  return out;
}

/** Whether b starts with a WebSocket data frame carrying a SIP start line (a mid-stream pickup). */
function wsFrameWithSip(b: Buffer): boolean {
  const f = frameHeader(b, 0);
  if (!f || (f.opcode !== 1 && f.opcode !== 2) || f.rsv1) return false;
  const have = b.subarray(f.head, f.head + Math.min(f.length, 256));
  const p = unmask(have, f.mask);
  const nl = p.indexOf(10);
  return nl > 0 && parseStartLine(p.toString('latin1', 0, nl)) !== null;
}

/** One direction of a WebSocket connection: skips the HTTP handshake, then reassembles messages. */
class WsHalf {
  #buf: Buffer = Buffer.alloc(0);
  #handshake: boolean;
  #parts: Buffer[] = [];
  #partBytes = 0;
  /** Payload octets of an oversized or compressed message still to skip. */
  #skipping = false;
  readonly #onMessage: (m: Buffer, ts: number) => void;
  readonly #sink: DecoderSink;

  constructor(handshake: boolean, onMessage: (m: Buffer, ts: number) => void, sink: DecoderSink) {
    this.#handshake = handshake;
    this.#onMessage = onMessage;
    this.#sink = sink;
  }

  get bufferedBytes(): number {
    return this.#buf.length + this.#partBytes;
  }

  push(bytes: Buffer, ts: number): void {
    this.#buf = this.#buf.length === 0 ? bytes : Buffer.concat([this.#buf, bytes]);
    if (this.#handshake) {
      const end = findHeaderEnd(this.#buf);
      if (end < 0) {
        if (this.#buf.length > MAX_HEADER_BYTES) this.#buf = Buffer.alloc(0);
        return;
      }
      this.#handshake = false;
      this.#buf = this.#buf.subarray(end);
    }
    let at = 0;
    for (;;) {
      const f = frameHeader(this.#buf, at);
      if (!f) break;
      if (f.length > MAX_WS_MESSAGE) {
        // Cannot be a SIP message we would keep; the stream cannot be followed past it either.
        this.#sink.problem({ code: 'ING_ERR_SIP_TOO_LARGE', reason: 'WebSocket frame over the size bound' });
        this.#buf = Buffer.alloc(0);
        this.#reset();
        return;
      }
      if (this.#buf.length - at < f.head + f.length) break;
      const payload = this.#buf.subarray(at + f.head, at + f.head + f.length);
      at += f.head + f.length;
      this.#frame(f, payload, ts);
    }
    // Copy the remainder so it does not pin a large delivered chunk.
    this.#buf = at === 0 ? this.#buf : Buffer.from(this.#buf.subarray(at));
  }

  gap(): void {
    this.#buf = Buffer.alloc(0);
    this.#reset();
    this.#sink.problem({ code: 'ING_ERR_SIP_GAP', reason: 'bytes missing from a SIP WebSocket stream' });
  }

  #reset(): void {
    this.#parts = [];
    this.#partBytes = 0;
    this.#skipping = false;
  }

  #frame(f: Frame, payload: Buffer, ts: number): void {
    if (f.opcode >= 8) return; // close, ping, pong: control frames carry no SIP
    if (f.opcode === 1 || f.opcode === 2) {
      this.#reset();
      if (f.rsv1) {
        // permessage-deflate (RFC 7692) is not negotiated for SIP by the known clients.
        this.#sink.problem({ code: 'ING_ERR_SIP_START_LINE', reason: 'compressed WebSocket message not decoded' });
        this.#skipping = true;
      }
    } else if (f.opcode !== 0) return;
    if (this.#skipping) {
      if (f.fin) this.#reset();
      return;
    }
    const data = unmask(payload, f.mask);
    this.#parts.push(data);
    this.#partBytes += data.length;
    if (this.#partBytes > MAX_WS_MESSAGE) {
      this.#sink.problem({ code: 'ING_ERR_SIP_TOO_LARGE', reason: 'WebSocket message over the size bound' });
      this.#reset();
      this.#skipping = !f.fin;
      return;
    }
    if (!f.fin) return;
    const message = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
    this.#reset();
    // Keepalive pings (CRLF) carry no message.
    if (message.every((x) => x === 13 || x === 10)) return;
    this.#onMessage(message, ts);
  }
}

class SniffingDecoder implements StreamDecoder {
  #mode: Mode = 'sniff';
  #held: Record<Direction, Buffer[]> = { toServer: [], toClient: [] };
  #heldBytes = 0;
  #inner: StreamDecoder | null = null;
  #ws: Record<Direction, WsHalf> | null = null;
  readonly #flow: FlowEndpoints;
  readonly #sink: DecoderSink;

  constructor(flow: FlowEndpoints, sink: DecoderSink) {
    this.#flow = flow;
    this.#sink = sink;
  }

  data(direction: Direction, bytes: Buffer, ts: number): void {
    if (this.#mode === 'sip') {
      this.#inner?.data(direction, bytes, ts);
      return;
    }
    if (this.#mode === 'ws') {
      this.#ws?.[direction].push(bytes, ts);
      return;
    }
    if (this.#mode === 'other') return;
    this.#held[direction].push(bytes);
    this.#heldBytes += bytes.length;
    const b = Buffer.concat(this.#held[direction]);
    const sip = sipStartAt(b);
    if (sip >= 0) {
      this.#mode = 'sip';
      this.#inner = createSipStreamDecoder(this.#flow, this.#sink);
      this.#flush(direction, b.subarray(sip), ts);
      return;
    }
    const up = direction === 'toServer' ? upgradeRequest(b) : 'no';
    if (up === 'ws' || wsFrameWithSip(b)) {
      this.#mode = 'ws';
      const handshake = up === 'ws';
      const wsSink: DecoderSink = {
        event: (e) =>
          this.#sink.event(e.protocol === 'SIP' ? { ...e, attributes: { ...e.attributes, 'sip-transport': 'WS' } } : e),
        problem: (p) => this.#sink.problem(p),
      };
      const half = (dir: Direction) => {
        const fromClient = dir === 'toServer';
        const network: NetworkInfo = {
          transport: 'tcp',
          srcAddress: fromClient ? this.#flow.clientAddress : this.#flow.serverAddress,
          srcPort: fromClient ? this.#flow.clientPort : this.#flow.serverPort,
          dstAddress: fromClient ? this.#flow.serverAddress : this.#flow.clientAddress,
          dstPort: fromClient ? this.#flow.serverPort : this.#flow.clientPort,
        };
        return new WsHalf(handshake, emitter(wsSink, network), wsSink);
      };
      this.#ws = { toServer: half('toServer'), toClient: half('toClient') };
      this.#flush(direction, b, ts);
      return;
    }
    if (up === 'more') return;
    // A TLS record (0x16 handshake) is encrypted: nothing to find in it.
    // HTTP that is no WebSocket upgrade carries no SIP signalling.
    if (b[0] === 0x16 || b.length >= SNIFF_BYTES || (up === 'no' && HTTP_LINE.test(b.toString('latin1', 0, 256)))) {
      this.#mode = 'other';
      this.#drop();
    }
  }

  /** Hands what was held to the decoder chosen: this direction's octets from `b`, the other's whole. */
  #flush(direction: Direction, b: Buffer, ts: number): void {
    const other: Direction = direction === 'toServer' ? 'toClient' : 'toServer';
    const rest = Buffer.concat(this.#held[other]);
    this.#drop();
    if (b.length > 0) this.data(direction, b, ts);
    if (rest.length > 0) this.data(other, rest, ts);
  }

  #drop(): void {
    this.#held = { toServer: [], toClient: [] };
    this.#heldBytes = 0;
  }

  gap(direction: Direction, length: number, ts: number): void {
    if (this.#mode === 'sip') this.#inner?.gap(direction, length, ts);
    else if (this.#mode === 'ws') this.#ws?.[direction].gap();
    else if (this.#mode === 'sniff') {
      // Octets seen before a hole cannot be joined to those after it.
      this.#held[direction] = [];
      this.#heldBytes = this.#held.toServer.reduce((n, x) => n + x.length, 0);
      this.#heldBytes += this.#held.toClient.reduce((n, x) => n + x.length, 0);
    }
  }

  end(ts: number): void {
    if (this.#mode === 'sip') this.#inner?.end(ts);
    this.#drop();
  }

  bufferedBytes(): number {
    if (this.#mode === 'sip') return this.#inner?.bufferedBytes?.() ?? 0;
    if (this.#mode === 'ws' && this.#ws) return this.#ws.toServer.bufferedBytes + this.#ws.toClient.bufferedBytes;
    return this.#heldBytes;
  }
}

/**
 * Factory for the capture pipeline, placed after the port-based factories: any TCP flow left
 * over is watched for SIP, plain or over WebSocket.
 */
export function sipSniffFactory(): StreamDecoderFactory {
  return (flow, sink) => (flow.transport === 'tcp' ? new SniffingDecoder(flow, sink) : null);
}
