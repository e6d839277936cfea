// SIP over TCP (a StreamDecoder framing by Content-Length, RFC 3261 §18.3) and over UDP
// (one message per datagram). Unparseable input is reported as a problem and skipped: the
// framer resynchronises on the next start line instead of giving up on the connection.
import type { NetworkInfo } from '@li/schemas';
import type { IngestErrorCode } from '../../errors.ts';
import type { Datagram } from '../capture/capture.ts';
import type { DecoderSink, Direction, FlowEndpoints, StreamDecoder, StreamDecoderFactory } from '../stream.ts';
import { sipEvent, sipLoginEvent } from './events.ts';
import { sipDatagramProblems } from './lint.ts';
import {
  findHeaderEnd,
  MAX_BODY_BYTES,
  MAX_HEADER_BYTES,
  parseMessage,
  parseStartLine,
  scanContentLength,
} from './message.ts';

/** Which ports count as SIP; a Set works, so does a predicate object. */
export interface PortSet {
  has(port: number): boolean;
}

const DEFAULT_SIP_PORTS: PortSet = new Set([5060, 5080]);

/** Start of a line that could begin a SIP message: used to resynchronise after junk or a gap. */
const START_LINE_SCAN = /(?:^|\n)(SIP\/\d\.\d [1-6]\d\d|[A-Z][A-Z-]{1,127} [^\s]+ SIP\/\d\.\d\r?\n)/g;

type Emit = (raw: Buffer, tsMicros: number) => void;

/** A start line longer than this is not looked for while resynchronising. */
const MAX_RESYNC_LINE = 256;
/** Octets of a line that decide whether it is a status line ("SIP/2.0 200"). */
const STATUS_PREFIX = 11;

/**
 * Frames one direction of a TCP stream into whole SIP messages. Work is linear in the input:
 * while a header section is incomplete only the new octets are searched for its end, and while
 * resynchronising only the current line is kept and searched once it is complete.
 */
export class SipFramer {
  #chunks: Buffer[] = [];
  #len = 0;
  /** Total bytes of the message being collected, once its header section was read. */
  #need = -1;
  #skip = 0;
  #resync = false;
  /** Resynchronising inside a line too long to be a start line: drop bytes up to the next LF. */
  #dropLine = false;
  /** The last two buffered octets (-1: none), to find a header end split across segments. */
  #tail1 = -1;
  #tail2 = -1;
  #scanned = 0;
  readonly #emit: Emit;
  readonly #problem: (code: IngestErrorCode, reason: string) => void;

  constructor(emit: Emit, problem: (code: IngestErrorCode, reason: string) => void) {
    this.#emit = emit;
    this.#problem = problem;
  }

  get bufferedBytes(): number {
    return this.#len;
  }

  /** Octets examined so far (searches for line and header ends, start-line scans): a work counter. */
  get scannedBytes(): number {
    return this.#scanned;
  }

  push(bytes: Buffer, ts: number): void {
    let b = bytes;
    if (b.length === 0) return;
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, b.length);
      this.#skip -= n;
      b = b.subarray(n);
      if (b.length === 0) return;
    }
    if (this.#dropLine) {
      const lf = b.indexOf(10);
      this.#scanned += lf < 0 ? b.length : lf + 1;
      if (lf < 0) return;
      this.#dropLine = false;
      b = b.subarray(lf + 1);
      if (b.length === 0) return;
    }
    if (this.#resync && this.#len >= STATUS_PREFIX) {
      // The kept partial line was already found not to be a status line; only its LF can
      // complete a request line.
      const lf = b.indexOf(10);
      this.#scanned += lf < 0 ? b.length : lf + 1;
      if (lf < 0) {
        this.#append(b);
        if (this.#len > MAX_RESYNC_LINE) {
          this.#reset();
          this.#dropLine = true;
        }
        return;
      }
    }
    const searching = this.#need < 0 && !this.#resync;
    const complete = searching && this.#headerEndIn(b);
    this.#append(b);
    if (this.#need >= 0 && this.#len < this.#need) return; // still collecting a known-size body
    if (searching && !complete && this.#len <= MAX_HEADER_BYTES) return;
    this.#run(ts);
  }

  gap(length: number): void {
    if (this.#skip > 0) {
      // The hole fell in a body we were skipping anyway.
      const n = Math.min(this.#skip, length);
      this.#skip -= n;
      if (n === length) return;
    }
    // Reported even between whole messages: a hole there can be a whole message never seen.
    this.#problem(
      'ING_ERR_SIP_GAP',
      this.#len > 0
        ? 'bytes missing from a SIP stream; partial message dropped'
        : 'bytes missing from a SIP stream between messages; any message in them was not seen',
    );
    this.#reset();
    this.#resync = true;
    this.#dropLine = false;
  }

  end(): void {
    // While resynchronising, what is left is junk already reported.
    if (this.#len > 0 && !this.#resync) {
      const rest = this.#take();
      if (rest.some((x) => x !== 13 && x !== 10 && x !== 32 && x !== 9)) {
        this.#problem('ING_ERR_SIP_TRUNCATED', 'stream ended inside a SIP message');
      }
    }
    this.#reset();
  }

  #append(b: Buffer): void {
    this.#chunks.push(b);
    this.#len += b.length;
    if (b.length >= 2) {
      this.#tail1 = b[b.length - 2] as number;
      this.#tail2 = b[b.length - 1] as number;
    } else {
      this.#tail1 = this.#tail2;
      this.#tail2 = b[0] as number;
    }
  }

  /** Whether the buffered octets plus b hold a header end, given that the buffered ones alone do not. */
  #headerEndIn(b: Buffer): boolean {
    this.#scanned += b.length;
    // An end that starts in the last buffered octets: LF|LF, LF|CR LF, LF CR|LF.
    if (this.#tail2 === 10 && (b[0] === 10 || (b[0] === 13 && b[1] === 10))) return true;
    if (this.#tail1 === 10 && this.#tail2 === 13 && b[0] === 10) return true;
    return findHeaderEnd(b) >= 0;
  }

  #reset(): void {
    this.#chunks = [];
    this.#len = 0;
    this.#need = -1;
    this.#tail1 = -1;
    this.#tail2 = -1;
  }

  #take(): Buffer {
    const b = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#len);
    this.#chunks = [b];
    return b;
  }

  #keep(b: Buffer): void {
    this.#chunks = b.length === 0 ? [] : [b];
    this.#len = b.length;
    this.#tail1 = b.length >= 2 ? (b[b.length - 2] as number) : -1;
    this.#tail2 = b.length >= 1 ? (b[b.length - 1] as number) : -1;
  }

  #run(ts: number): void {
    let buf = this.#take();
    for (;;) {
      if (this.#resync) {
        this.#scanned += buf.length;
        const text = buf.toString('latin1');
        START_LINE_SCAN.lastIndex = 0;
        const m = START_LINE_SCAN.exec(text);
        if (!m) {
          // Keep the current line: it may be a start line split across segments.
          const line = buf.subarray(buf.lastIndexOf(10) + 1);
          if (line.length > MAX_RESYNC_LINE) {
            buf = buf.subarray(buf.length);
            this.#dropLine = true;
          } else buf = line;
          break;
        }
        buf = buf.subarray(m.index + (text[m.index] === '\n' ? 1 : 0));
        this.#resync = false;
      }
      let s = 0;
      while (s < buf.length && (buf[s] === 13 || buf[s] === 10)) s++; // keepalive CRLFs (RFC 5626 §3.5.1)
      buf = buf.subarray(s);
      if (buf.length === 0) break;
      const end = findHeaderEnd(buf);
      this.#scanned += end < 0 ? buf.length : end;
      if (end < 0) {
        if (buf.length > MAX_HEADER_BYTES) {
          this.#problem('ING_ERR_SIP_TOO_LARGE', 'SIP header section exceeds limit');
          buf = buf.subarray(buf.length);
          this.#resync = true;
          // The cut fell inside a line: a start line can only begin after its end.
          this.#dropLine = true;
        }
        break;
      }
      const nl = buf.indexOf(10);
      const start = parseStartLine(buf.toString('latin1', 0, nl < 0 ? end : nl));
      if (!start) {
        this.#problem('ING_ERR_SIP_START_LINE', 'stream data is not a SIP start line');
        buf = buf.subarray(nl < 0 ? end : nl + 1);
        this.#resync = true;
        continue;
      }
      const cl = scanContentLength(buf, end);
      if (cl !== null && Number.isNaN(cl)) {
        this.#problem('ING_ERR_SIP_CONTENT_LENGTH', 'unusable Content-Length on a stream');
        buf = buf.subarray(end);
        this.#resync = true;
        continue;
      }
      // A missing Content-Length on a stream is an error (§18.3); taking it as 0 keeps the framing.
      const bodyLen = cl ?? 0;
      if (bodyLen > MAX_BODY_BYTES) {
        this.#problem('ING_ERR_SIP_TOO_LARGE', 'SIP body exceeds limit; message skipped');
        const avail = buf.length - end;
        this.#skip = Math.max(0, bodyLen - avail);
        buf = buf.subarray(Math.min(buf.length, end + bodyLen));
        continue;
      }
      const total = end + bodyLen;
      if (buf.length < total) {
        this.#need = total;
        break;
      }
      this.#need = -1;
      this.#emit(Buffer.from(buf.subarray(0, total)), ts);
      buf = buf.subarray(total);
    }
    // Copy a small remainder so it does not pin a large delivered chunk.
    this.#keep(buf.length > 0 && buf.length < 4096 ? Buffer.from(buf) : buf);
  }
}

/** Parses one whole SIP message and emits its events (shared with the WebSocket decoder). */
export function emitter(sink: DecoderSink, network: NetworkInfo): Emit {
  return (raw, ts) => {
    const r = parseMessage(raw);
    if (!r.ok) {
      sink.problem({ code: r.code, reason: r.reason });
      return;
    }
    sink.event(sipEvent(r.message, network, ts));
    const login = sipLoginEvent(r.message, network, ts);
    if (login) sink.event(login);
  };
}

export function createSipStreamDecoder(flow: FlowEndpoints, sink: DecoderSink): StreamDecoder {
  const up: NetworkInfo = {
    transport: flow.transport,
    srcAddress: flow.clientAddress,
    srcPort: flow.clientPort,
    dstAddress: flow.serverAddress,
    dstPort: flow.serverPort,
  };
  const down: NetworkInfo = {
    transport: flow.transport,
    srcAddress: flow.serverAddress,
    srcPort: flow.serverPort,
    dstAddress: flow.clientAddress,
    dstPort: flow.clientPort,
  };
  const problem = (code: IngestErrorCode, reason: string) => sink.problem({ code, reason });
  const framers: Record<Direction, SipFramer> = {
    toServer: new SipFramer(emitter(sink, up), problem),
    toClient: new SipFramer(emitter(sink, down), problem),
  };
  return {
    data(direction, bytes, ts) {
      framers[direction].push(bytes, ts);
    },
    gap(direction, length) {
      framers[direction].gap(length);
    },
    end() {
      framers.toServer.end();
      framers.toClient.end();
    },
    bufferedBytes() {
      return framers.toServer.bufferedBytes + framers.toClient.bufferedBytes;
    },
  };
}

/** Factory for the capture pipeline: SIP on the given TCP ports (either end). */
export function sipStreamFactory(ports: PortSet = DEFAULT_SIP_PORTS): StreamDecoderFactory {
  return (flow, sink) =>
    ports.has(flow.serverPort) || ports.has(flow.clientPort) ? createSipStreamDecoder(flow, sink) : null;
}

function looksLikeSip(b: Buffer): boolean {
  let s = 0;
  while (s < b.length && (b[s] === 13 || b[s] === 10)) s++;
  const nl = b.indexOf(10, s);
  if (nl < 0 || nl - s > 8192) return false;
  return parseStartLine(b.toString('latin1', s, nl)) !== null;
}

/**
 * Handler for UDP datagrams. Datagrams on SIP ports that do not parse are problems; other
 * UDP is decoded only if it starts with a SIP start line (SIP on unusual ports).
 */
export function sipDatagramHandler(sink: DecoderSink, ports: PortSet = DEFAULT_SIP_PORTS): (d: Datagram) => void {
  return (d) => {
    const onPort = ports.has(d.network.srcPort) || ports.has(d.network.dstPort);
    if (!onPort && !looksLikeSip(d.payload)) return;
    // Keepalives: CRLF pings (RFC 5626 §4.4.1) and empty datagrams.
    if (d.payload.every((x) => x === 13 || x === 10 || x === 0)) return;
    const r = parseMessage(d.payload);
    if (!r.ok) {
      sink.problem({ code: r.code, reason: r.reason });
      return;
    }
    const event = sipEvent(r.message, d.network, d.tsMicros);
    const flagged = sipDatagramProblems(r.message);
    if (flagged.length > 0) event.attributes = { ...event.attributes, problems: flagged.join(' ') };
    sink.event(event);
    const login = sipLoginEvent(r.message, d.network, d.tsMicros);
    if (login) sink.event(login);
  };
}
