// Building blocks shared by the text-protocol decoders (SMTP, POP3, IMAP, MSNP): a byte queue
// that yields CRLF lines or counted octets, dot-unstuffing, SASL username extraction and the
// DecodedEvent constructor. No I/O here: the capture layer feeds bytes through StreamDecoder.
import type { Party } from '@li/schemas';
import type { IngestErrorCode } from '../../errors.ts';
import type { DecodedEvent, DecoderSink, Direction, FlowEndpoints, StreamDecoder } from '../stream.ts';

/** Limits that keep one hostile flow from exhausting memory. */
export interface TextDecoderLimits {
  /** Longest command/response line kept; longer lines are reported and skipped. */
  maxLineBytes: number;
  /** Largest message body kept as content; the rest is counted, not stored. */
  maxMessageBytes: number;
}

export const DEFAULT_LIMITS: TextDecoderLimits = { maxLineBytes: 64 * 1024, maxMessageBytes: 32 * 1024 * 1024 };

export type LineResult = { kind: 'line'; text: string; raw: Buffer } | { kind: 'overlong'; length: number };

/**
 * Accumulates one direction's bytes. `nextLine` returns a line without its terminator (LF or
 * CRLF); `take(n)` returns exactly n raw octets (literals, MSG payloads, BDAT chunks).
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Leading octets already searched without finding LF: segments are never rescanned or re-copied. */
  private scanned = 0;
  /** When a line exceeded the limit we drop bytes until the next LF. */
  private discarding = 0;
  private readonly maxLine: number;

  constructor(maxLine: number) {
    this.maxLine = maxLine;
  }

  get length(): number {
    return this.size;
  }

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    // Own copy: the caller may reuse its buffer once data() returns.
    this.chunks.push(Buffer.from(bytes));
    this.size += bytes.length;
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
    this.scanned = 0;
    this.discarding = 0;
  }

  /** Takes every unread octet out (the stream turns into another encoding from here on). */
  takeAll(): Buffer {
    const all = Buffer.concat(this.chunks, this.size);
    this.clear();
    return all;
  }

  private findLf(): number {
    let base = 0;
    for (const c of this.chunks) {
      if (base + c.length > this.scanned) {
        const i = c.indexOf(0x0a, Math.max(0, this.scanned - base));
        if (i >= 0) return base + i;
      }
      base += c.length;
    }
    this.scanned = this.size;
    return -1;
  }

  private consume(n: number): Buffer {
    const first = this.chunks[0];
    if (n <= 0 || !first) return Buffer.alloc(0);
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const parts: Buffer[] = [];
      let need = n;
      let k = 0;
      while (need > 0 && k < this.chunks.length) {
        const c = this.chunks[k] as Buffer;
        if (c.length <= need) {
          parts.push(c);
          need -= c.length;
          k++;
        } else {
          parts.push(c.subarray(0, need));
          this.chunks[k] = c.subarray(need);
          need = 0;
        }
      }
      this.chunks.splice(0, k);
      out = Buffer.concat(parts, n - need);
    }
    this.size -= out.length;
    this.scanned = Math.max(0, this.scanned - out.length);
    return out;
  }

  nextLine(): LineResult | null {
    if (this.size === 0) return null;
    const lf = this.findLf();
    if (this.discarding > 0) {
      if (lf < 0) {
        this.discarding += this.size;
        this.consume(this.size);
        return null;
      }
      const length = this.discarding + lf + 1;
      this.discarding = 0;
      this.consume(lf + 1);
      return { kind: 'overlong', length };
    }
    if (lf < 0) {
      if (this.size > this.maxLine) {
        this.discarding = this.size;
        this.consume(this.size);
      }
      return null;
    }
    if (lf > this.maxLine) {
      this.consume(lf + 1);
      return { kind: 'overlong', length: lf + 1 };
    }
    const raw = this.consume(lf + 1);
    const end = lf > 0 && raw[lf - 1] === 0x0d ? lf - 1 : lf;
    return { kind: 'line', text: raw.toString('utf8', 0, end), raw };
  }

  /** Up to n octets (fewer if not buffered yet). */
  take(n: number): Buffer {
    return this.consume(Math.min(n, this.size));
  }
}

/** Collects message octets up to a cap; remembers how many were dropped. */
export class BoundedBody {
  private parts: Buffer[] = [];
  private kept = 0;
  total = 0;
  private readonly cap: number;

  constructor(cap: number) {
    this.cap = cap;
  }

  append(bytes: Buffer): void {
    this.total += bytes.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
    this.parts.push(Buffer.from(part));
    this.kept += part.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  /** Octets held. */
  get size(): number {
    return this.kept;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts, this.kept);
  }
}

/** RFC 5321 4.5.2 / RFC 1939 3: a leading "." on a data line was doubled by the sender. */
export function unstuff(line: Buffer): Buffer {
  return line.length > 0 && line[0] === 0x2e ? line.subarray(1) : line;
}

/** The value of one header field of an RFC 5322 header block (unfolded), or null. */
export function headerValue(message: Buffer, name: string): string | null {
  const limit = Math.min(message.length, 256 * 1024);
  let end = message.indexOf('\r\n\r\n');
  if (end < 0 || end > limit) end = message.indexOf('\n\n');
  const head = message.toString('utf8', 0, end < 0 || end > limit ? limit : end).replace(/\r?\n[ \t]+/g, ' ');
  const wanted = name.toLowerCase();
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) return line.slice(colon + 1).trim();
  }
  return null;
}

/** "<a@b>" or "a@b" with optional ESMTP parameters after the path → "a@b". */
export function pathAddress(arg: string): string {
  const trimmed = arg.trim();
  if (trimmed.startsWith('<')) {
    const close = trimmed.indexOf('>');
    return (close < 0 ? trimmed.slice(1) : trimmed.slice(1, close)).trim();
  }
  return trimmed.split(/\s+/)[0] ?? '';
}

function b64(text: string): Buffer | null {
  const t = text.trim();
  if (t === '' || t === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return null;
  return Buffer.from(t, 'base64');
}

/**
 * Tracks one SASL exchange (RFC 4422) and keeps the authentication identity only: passwords
 * and digests are never stored. Supports PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195),
 * XOAUTH2 / OAUTHBEARER (RFC 7628) user fields.
 */
export class SaslUser {
  readonly mechanism: string;
  user: string | null = null;
  private responses = 0;

  constructor(mechanism: string, initial: string | null) {
    this.mechanism = mechanism.toUpperCase();
    if (initial !== null && initial !== '') this.response(initial);
  }

  /** Feed one client response line (base64). */
  response(line: string): void {
    const index = this.responses++;
    if (line.trim() === '*') return;
    const data = b64(line);
    if (data === null) return;
    switch (this.mechanism) {
      case 'PLAIN': {
        // authzid NUL authcid NUL passwd: keep authcid only.
        const fields = data.toString('utf8').split('\0');
        if (fields.length >= 2 && fields[1]) this.user = fields[1];
        break;
      }
      case 'LOGIN':
        if (index === 0) this.user = data.toString('utf8');
        break;
      case 'CRAM-MD5':
      case 'DIGEST-MD5': {
        const text = data.toString('utf8');
        const m = /username="([^"]*)"/.exec(text);
        this.user = m ? (m[1] ?? null) : (text.split(' ')[0] ?? null);
        break;
      }
      case 'XOAUTH2':
      case 'OAUTHBEARER': {
        // RFC 7628 3.1 / XOAUTH2: fields separated by ^A (and the GS2 header by commas).
        for (const field of data
          .toString('utf8')
          .split(String.fromCharCode(1))
          .flatMap((f) => f.split(','))) {
          if (field.startsWith('user=')) this.user = field.slice(5);
          else if (field.startsWith('a=') && !this.user) this.user = field.slice(2);
        }
        break;
      }
      default:
        break;
    }
  }
}

/** Builds events with the flow's network block and a per-session communication id. */
export class EventBuilder {
  readonly protocol: string;
  private readonly flow: FlowEndpoints;
  private readonly sink: DecoderSink;
  private communicationId: string | null = null;

  constructor(protocol: string, flow: FlowEndpoints, sink: DecoderSink) {
    this.protocol = protocol;
    this.flow = flow;
    this.sink = sink;
  }

  /** One id per TCP session: endpoints plus the time the decoder first saw bytes. */
  start(tsMicros: number): void {
    if (this.communicationId !== null) return;
    const f = this.flow;
    this.communicationId = `${this.protocol}:${f.clientAddress}:${f.clientPort}-${f.serverAddress}:${f.serverPort}:${tsMicros}`;
  }

  emit(fields: {
    category: DecodedEvent['category'];
    action: string;
    tsMicros: number;
    parties: Party[];
    attributes?: Record<string, string>;
    content?: Buffer | null;
    contentType?: string | null;
  }): void {
    this.start(fields.tsMicros);
    const f = this.flow;
    this.sink.event({
      category: fields.category,
      action: fields.action,
      occurredAtMicros: fields.tsMicros,
      protocol: this.protocol,
      communicationId: this.communicationId ?? '',
      parties: fields.parties,
      network: {
        transport: f.transport,
        srcAddress: f.clientAddress,
        srcPort: f.clientPort,
        dstAddress: f.serverAddress,
        dstPort: f.serverPort,
      },
      attributes: fields.attributes ?? {},
      content: fields.content ?? null,
      contentType: fields.content ? (fields.contentType ?? 'application/octet-stream') : null,
    });
  }

  problem(code: IngestErrorCode, reason: string): void {
    this.sink.problem({ code, reason });
  }
}

/** Drop attributes whose value is empty so events stay compact. */
export function compact(attrs: Record<string, string | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined && v !== '') out[k] = v;
  return out;
}

/**
 * Runs one decoding step. A throw is a decoder bug: it must not take the capture down, so the
 * flow is reported (no content in the reason) and the caller stops decoding it. Returns false then.
 */
/**
 * What every text-protocol decoder shares: its event builder, and the guard that stops decoding a
 * flow (reported once, as ING_ERR_DECODER) when the decoder itself throws, so that one bad flow
 * never stops the capture. Subclasses decode in `step`.
 */
export abstract class GuardedDecoder implements StreamDecoder {
  protected readonly out: EventBuilder;
  readonly #protocol: string;
  #broken = false;

  constructor(protocol: string, flow: FlowEndpoints, sink: DecoderSink) {
    this.out = new EventBuilder(protocol, flow, sink);
    this.#protocol = protocol;
  }

  data(direction: Direction, bytes: Buffer, tsMicros: number): void {
    if (this.#broken) return;
    try {
      this.out.start(tsMicros);
      this.step(direction, bytes, tsMicros);
    } catch (err) {
      this.#broken = true;
      this.out.problem(
        'ING_ERR_DECODER',
        `${this.#protocol}: decoding stopped after an internal error (${err instanceof Error ? err.name : 'unknown'})`,
      );
    }
  }

  protected abstract step(direction: Direction, bytes: Buffer, tsMicros: number): void;
  abstract gap(direction: Direction, length: number, tsMicros: number): void;
  abstract end(tsMicros: number): void;
  abstract bufferedBytes(): number;
}

/** SMTP and POP3: one line queue per direction, drained by the subclass until it turns opaque (TLS). */
export abstract class LineDecoder extends GuardedDecoder {
  protected readonly limits: TextDecoderLimits;
  protected readonly client: ByteQueue;
  protected readonly server: ByteQueue;

  constructor(protocol: string, flow: FlowEndpoints, sink: DecoderSink, limits: TextDecoderLimits) {
    super(protocol, flow, sink);
    this.limits = limits;
    this.client = new ByteQueue(limits.maxLineBytes);
    this.server = new ByteQueue(limits.maxLineBytes);
  }

  protected step(direction: Direction, bytes: Buffer, tsMicros: number): void {
    if (this.isOpaque()) return;
    if (direction === 'toServer') {
      this.client.push(bytes);
      this.drainClient();
    } else {
      this.server.push(bytes);
      this.drainServer(tsMicros);
    }
  }

  end(_tsMicros: number): void {
    this.client.clear();
    this.server.clear();
  }

  /** True once the session switched to bytes the decoder cannot read (STARTTLS/STLS). */
  protected abstract isOpaque(): boolean;
  protected abstract drainClient(): void;
  protected abstract drainServer(tsMicros: number): void;
}
