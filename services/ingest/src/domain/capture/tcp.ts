// TCP stream reassembly per flow (RFC 9293 sequence space). Sequence numbers are compared
// with 32-bit modular arithmetic and mapped to a per-direction absolute offset, so wrap-around
// is invisible to the buffering code. Overlaps keep the bytes that arrived first.
import type { DecoderSink, Direction, FlowEndpoints, StreamDecoder, StreamDecoderFactory } from '../stream.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpHeader } from './packet.ts';

export interface TcpLimits {
  /** Flows tracked at once; the least recently active is ended when a new one needs room. */
  maxFlows: number;
  /** Out-of-order bytes held per direction before the hole is declared a gap. */
  maxBufferedBytesPerDirection: number;
  /** Out-of-order segments held per direction (bounds bookkeeping for tiny segments). */
  maxSegmentsPerDirection: number;
  /** Out-of-order bytes held across all flows. */
  maxBufferedBytesTotal: number;
  /** A hole older than this is declared a gap (the missing bytes were never captured). */
  gapTimeoutMicros: number;
  /** A flow without packets for this long is ended. */
  idleTimeoutMicros: number;
  /** After FIN/RST, late segments of the flow are dropped for this long (TIME-WAIT, RFC 9293 §3.3.2). */
  closedLingerMicros: number;
  /** Octets one flow may hold (out-of-order segments plus its decoder's buffers); beyond, the flow is dropped. */
  maxFlowBytes: number;
  /** The same across all flows; beyond, the flows holding most are dropped until under it. */
  maxTotalBytes: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = {
  maxFlows: 65536,
  maxBufferedBytesPerDirection: 1024 * 1024,
  maxSegmentsPerDirection: 2048,
  maxBufferedBytesTotal: 256 * 1024 * 1024,
  gapTimeoutMicros: 10_000_000,
  idleTimeoutMicros: 300_000_000,
  closedLingerMicros: 60_000_000,
  // Above the mail decoders' 32 MiB message cap, so a large but ordinary mail is still decoded.
  maxFlowBytes: 48 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
};

/** Ports whose owner is taken as the server when the handshake was not seen. */
const WELL_KNOWN_SERVER_PORTS: ReadonlySet<number> = new Set([
  21, 22, 23, 25, 80, 110, 143, 443, 465, 587, 993, 995, 1863, 2427, 5060, 5061, 5222, 5269, 5280, 8080,
]);

export interface TcpCounters {
  segments: number;
  flowsCreated: number;
  flowsEnded: number;
  flowsEvictedForRoom: number;
  flowsIdleTimedOut: number;
  flowsWithoutDecoder: number;
  midStreamPickups: number;
  bytesDelivered: number;
  retransmittedBytes: number;
  overlapBytes: number;
  outOfOrderSegments: number;
  gaps: number;
  gapBytes: number;
  bytesAfterFin: number;
  segmentsWithoutFlow: number;
  segmentsAfterClose: number;
  decoderErrors: number;
  flowsDroppedFlowMemory: number;
  flowsDroppedTotalMemory: number;
  segmentsOfDroppedFlows: number;
}

interface Seg {
  start: number;
  data: Buffer;
}

interface Half {
  started: boolean;
  /** Sequence number of this side's SYN, or -1 if the flow was picked up mid-stream. */
  synSeq: number;
  /** Sequence number of the next byte to deliver (mod 2^32). */
  nextSeq: number;
  /** Absolute offset of the next byte to deliver. */
  nextAbs: number;
  pending: Seg[];
  bytes: number;
  /** Absolute offset of the FIN, or -1. */
  finAbs: number;
  finished: boolean;
  /** When the current hole started waiting (packet time), or -1. */
  holeSinceMicros: number;
}

interface Flow {
  key: string;
  endpoints: FlowEndpoints;
  decoder: StreamDecoder | null;
  toServer: Half;
  toClient: Half;
  lastMicros: number;
  touchedMicros: number;
  /** What the decoder reported holding after its last call. */
  decoderBytes: number;
}

const newHalf = (): Half => ({
  started: false,
  synSeq: -1,
  nextSeq: 0,
  nextAbs: 0,
  pending: [],
  bytes: 0,
  finAbs: -1,
  finished: false,
  holeSinceMicros: -1,
});

export interface TcpReassemblerOptions {
  factories: readonly StreamDecoderFactory[];
  sink: DecoderSink;
  limits?: Partial<TcpLimits>;
  serverPorts?: ReadonlySet<number>;
}

export class TcpReassembler {
  readonly #limits: TcpLimits;
  readonly #factories: readonly StreamDecoderFactory[];
  readonly #sink: DecoderSink;
  readonly #serverPorts: ReadonlySet<number>;
  /** Insertion order approximates least-recently-active first (flows are re-inserted on activity). */
  readonly #flows = new Map<string, Flow>();
  #buffered = 0;
  /** Sum of the flows' decoderBytes. */
  #decoderBytes = 0;
  readonly counters: TcpCounters = {
    segments: 0,
    flowsCreated: 0,
    flowsEnded: 0,
    flowsEvictedForRoom: 0,
    flowsIdleTimedOut: 0,
    flowsWithoutDecoder: 0,
    midStreamPickups: 0,
    bytesDelivered: 0,
    retransmittedBytes: 0,
    overlapBytes: 0,
    outOfOrderSegments: 0,
    gaps: 0,
    gapBytes: 0,
    bytesAfterFin: 0,
    segmentsWithoutFlow: 0,
    segmentsAfterClose: 0,
    decoderErrors: 0,
    flowsDroppedFlowMemory: 0,
    flowsDroppedTotalMemory: 0,
    segmentsOfDroppedFlows: 0,
  };
  /** Flows dropped for memory → last segment time: their later segments are ignored, not picked up again. */
  readonly #dropped = new Map<string, number>();
  /** Flows closed by FIN/RST → close time; bounded like the flow table. */
  readonly #closed = new Map<string, number>();

  constructor(opts: TcpReassemblerOptions) {
    this.#limits = { ...DEFAULT_TCP_LIMITS, ...opts.limits };
    this.#factories = opts.factories;
    this.#sink = opts.sink;
    this.#serverPorts = opts.serverPorts ?? WELL_KNOWN_SERVER_PORTS;
  }

  get flowCount(): number {
    return this.#flows.size;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Octets held for all flows: out-of-order segments plus decoder buffers. */
  get heldBytes(): number {
    return this.#buffered + this.#decoderBytes;
  }

  segment(src: string, dst: string, tcp: TcpHeader, tsMicros: number): void {
    this.counters.segments++;
    const a = `${src}|${tcp.srcPort}`;
    const b = `${dst}|${tcp.dstPort}`;
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    let flow = this.#flows.get(key);
    if (!flow && this.#dropped.size > 0) {
      const droppedAt = this.#dropped.get(key);
      if (droppedAt !== undefined) {
        this.#dropped.delete(key);
        if ((tcp.flags & TCP_SYN) === 0) {
          // Still talking: keep ignoring it (re-inserted, so the map stays in time order).
          if ((tcp.flags & (TCP_FIN | TCP_RST)) === 0) this.#dropped.set(key, tsMicros);
          this.counters.segmentsOfDroppedFlows++;
          return;
        }
      }
    }
    if (!flow && this.#closed.size > 0) {
      const closedAt = this.#closed.get(key);
      if (closedAt !== undefined) {
        // A retransmission after the close must not start a phantom mid-stream flow; a new SYN may.
        if ((tcp.flags & TCP_SYN) === 0 && tsMicros - closedAt <= this.#limits.closedLingerMicros) {
          this.counters.segmentsAfterClose++;
          return;
        }
        this.#closed.delete(key);
      }
    }
    if (!flow) {
      // A bare ACK/FIN/RST of a flow we no longer (or never) track carries nothing to decode.
      if ((tcp.flags & TCP_SYN) === 0 && tcp.payload.length === 0) {
        this.counters.segmentsWithoutFlow++;
        return;
      }
      if (tcp.flags & TCP_RST) {
        this.counters.segmentsWithoutFlow++;
        return;
      }
      flow = this.#create(key, src, dst, tcp, tsMicros);
    } else if (tsMicros - flow.touchedMicros > 1_000_000) {
      this.#flows.delete(key);
      this.#flows.set(key, flow);
      flow.touchedMicros = tsMicros;
    }
    flow.lastMicros = Math.max(flow.lastMicros, tsMicros);
    let dir = this.#direction(flow, src, dst, tcp);
    let h = dir === 'toServer' ? flow.toServer : flow.toClient;
    if ((tcp.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && h.synSeq >= 0 && h.synSeq !== tcp.seq) {
      // A new SYN with another ISN: the 4-tuple was reused without us seeing the old close.
      this.#end(flow, tsMicros);
      flow = this.#create(key, src, dst, tcp, tsMicros);
      dir = this.#direction(flow, src, dst, tcp);
      h = dir === 'toServer' ? flow.toServer : flow.toClient;
    }
    if (!flow.decoder) {
      // Nobody decodes this flow: only follow it to its end.
      if (tcp.flags & TCP_RST) h.finished = flow.toServer.finished = flow.toClient.finished = true;
      if (tcp.flags & TCP_FIN) h.finished = true;
      if (flow.toServer.finished && flow.toClient.finished) {
        this.#end(flow, tsMicros);
        this.#remember(key, tsMicros);
      }
      return;
    }

    if (tcp.flags & TCP_RST) {
      this.#end(flow, tsMicros);
      this.#remember(key, tsMicros);
      return;
    }
    let seq = tcp.seq;
    if (tcp.flags & TCP_SYN) {
      if (!h.started) {
        h.started = true;
        h.synSeq = seq;
        h.nextSeq = (seq + 1) >>> 0;
        h.nextAbs = 0;
      }
      seq = (seq + 1) >>> 0;
    }
    const len = tcp.payload.length;
    if (len > 0 && !h.started) {
      h.started = true;
      h.nextSeq = seq;
      h.nextAbs = 0;
    }
    if (h.started) {
      const abs = h.nextAbs + ((seq - h.nextSeq) | 0);
      if (len > 0) this.#accept(flow, h, dir, abs, tcp.payload, tsMicros);
      if (tcp.flags & TCP_FIN && h.finAbs < 0) h.finAbs = abs + len;
      this.#drain(flow, h, dir, tsMicros);
      this.#enforce(flow, h, dir, tsMicros);
      this.#account(flow, tsMicros);
    }
    if (flow.toServer.finished && flow.toClient.finished && this.#flows.get(key) === flow) {
      this.#end(flow, tsMicros);
      this.#remember(key, tsMicros);
    }
  }

  #direction(flow: Flow, src: string, dst: string, tcp: TcpHeader): Direction {
    const e = flow.endpoints;
    const fromClient =
      src === e.clientAddress && tcp.srcPort === e.clientPort && !(src === dst && tcp.srcPort === tcp.dstPort);
    return fromClient ? 'toServer' : 'toClient';
  }

  #remember(key: string, tsMicros: number): void {
    this.#closed.delete(key);
    this.#closed.set(key, tsMicros);
    while (this.#closed.size > this.#limits.maxFlows) {
      const oldest = this.#closed.keys().next();
      if (oldest.done) break;
      this.#closed.delete(oldest.value);
    }
  }

  /** Ends idle flows and declares holes older than the gap timeout; call as packet time advances. */
  expire(nowMicros: number): void {
    const L = this.#limits;
    for (const [key, at] of this.#closed) {
      if (nowMicros - at <= L.closedLingerMicros) break; // insertion order = close order
      this.#closed.delete(key);
    }
    for (const [key, at] of this.#dropped) {
      if (nowMicros - at <= L.idleTimeoutMicros) break;
      this.#dropped.delete(key);
    }
    for (const flow of [...this.#flows.values()]) {
      if (this.#flows.get(flow.key) !== flow) continue; // dropped for memory meanwhile
      if (nowMicros - flow.lastMicros > L.idleTimeoutMicros) {
        this.counters.flowsIdleTimedOut++;
        this.#end(flow, nowMicros);
        continue;
      }
      for (const dir of ['toServer', 'toClient'] as const) {
        const h = flow[dir];
        if (h.pending.length > 0) this.#enforce(flow, h, dir, nowMicros);
      }
      this.#account(flow, nowMicros);
      if (flow.toServer.finished && flow.toClient.finished && this.#flows.get(flow.key) === flow) {
        this.#end(flow, nowMicros);
        this.#remember(flow.key, nowMicros);
      }
    }
  }

  /** Ends every flow (end of a capture file, shutdown). */
  endAll(nowMicros: number): void {
    for (const flow of [...this.#flows.values()]) this.#end(flow, nowMicros);
  }

  #create(key: string, src: string, dst: string, tcp: TcpHeader, tsMicros: number): Flow {
    while (this.#flows.size >= this.#limits.maxFlows) {
      const oldest = this.#flows.values().next();
      if (oldest.done) break;
      this.counters.flowsEvictedForRoom++;
      this.#end(oldest.value, tsMicros);
    }
    const syn = (tcp.flags & TCP_SYN) !== 0;
    const ack = (tcp.flags & TCP_ACK) !== 0;
    let senderIsClient: boolean;
    if (syn) senderIsClient = !ack;
    else {
      // Mid-stream pickup: the well-known port is the server; else the lower port.
      this.counters.midStreamPickups++;
      const srcWk = this.#serverPorts.has(tcp.srcPort);
      const dstWk = this.#serverPorts.has(tcp.dstPort);
      if (srcWk !== dstWk) senderIsClient = dstWk;
      else senderIsClient = tcp.dstPort <= tcp.srcPort;
    }
    const endpoints: FlowEndpoints = senderIsClient
      ? { transport: 'tcp', clientAddress: src, clientPort: tcp.srcPort, serverAddress: dst, serverPort: tcp.dstPort }
      : { transport: 'tcp', clientAddress: dst, clientPort: tcp.dstPort, serverAddress: src, serverPort: tcp.srcPort };
    let decoder: StreamDecoder | null = null;
    for (const f of this.#factories) {
      try {
        decoder = f(endpoints, this.#sink);
      } catch (err) {
        this.#decoderError(err);
      }
      if (decoder) break;
    }
    if (!decoder) this.counters.flowsWithoutDecoder++;
    const flow: Flow = {
      key,
      endpoints,
      decoder,
      toServer: newHalf(),
      toClient: newHalf(),
      lastMicros: tsMicros,
      touchedMicros: tsMicros,
      decoderBytes: 0,
    };
    this.#flows.set(key, flow);
    this.counters.flowsCreated++;
    return flow;
  }

  #accept(flow: Flow, h: Half, dir: Direction, abs: number, payload: Buffer, ts: number): void {
    let start = abs;
    let data = payload;
    if (h.finAbs >= 0 && start + data.length > h.finAbs) {
      const keep = Math.max(0, h.finAbs - start);
      this.counters.bytesAfterFin += data.length - keep;
      data = data.subarray(0, keep);
    }
    if (start < h.nextAbs) {
      const dup = Math.min(h.nextAbs - start, data.length);
      this.counters.retransmittedBytes += dup;
      data = data.subarray(dup);
      start += dup;
    }
    if (data.length === 0) return;
    if (start === h.nextAbs && h.pending.length === 0) {
      this.#deliver(flow, h, dir, data, ts);
      return;
    }
    // Out of order or filling a hole: keep only bytes no earlier segment holds (first wins).
    if (start > h.nextAbs) this.counters.outOfOrderSegments++;
    let pieces: Seg[] = [{ start, data }];
    for (const ex of h.pending) {
      const exEnd = ex.start + ex.data.length;
      if (exEnd <= start) continue;
      if (ex.start >= start + data.length) break;
      const next: Seg[] = [];
      for (const pc of pieces) {
        const pcEnd = pc.start + pc.data.length;
        if (pcEnd <= ex.start || pc.start >= exEnd) {
          next.push(pc);
          continue;
        }
        this.counters.overlapBytes += Math.min(pcEnd, exEnd) - Math.max(pc.start, ex.start);
        if (pc.start < ex.start) next.push({ start: pc.start, data: pc.data.subarray(0, ex.start - pc.start) });
        if (pcEnd > exEnd) next.push({ start: exEnd, data: pc.data.subarray(exEnd - pc.start) });
      }
      pieces = next;
      if (pieces.length === 0) return;
    }
    for (const pc of pieces) {
      // Copy: a buffered segment must not pin the whole capture chunk it came from.
      const seg = { start: pc.start, data: Buffer.from(pc.data) };
      let i = h.pending.length;
      while (i > 0 && (h.pending[i - 1] as Seg).start > seg.start) i--;
      h.pending.splice(i, 0, seg);
      h.bytes += seg.data.length;
      this.#buffered += seg.data.length;
    }
    if (h.holeSinceMicros < 0) h.holeSinceMicros = ts;
  }

  #deliver(flow: Flow, h: Half, dir: Direction, data: Buffer, ts: number): void {
    h.nextAbs += data.length;
    h.nextSeq = (h.nextSeq + data.length) >>> 0;
    this.counters.bytesDelivered += data.length;
    try {
      flow.decoder?.data(dir, data, ts);
    } catch (err) {
      this.#decoderError(err);
    }
  }

  #drain(flow: Flow, h: Half, dir: Direction, ts: number): void {
    while (h.pending.length > 0) {
      const first = h.pending[0] as Seg;
      if (first.start > h.nextAbs) break;
      h.pending.shift();
      h.bytes -= first.data.length;
      this.#buffered -= first.data.length;
      const skip = h.nextAbs - first.start;
      if (skip < first.data.length) this.#deliver(flow, h, dir, first.data.subarray(skip), ts);
    }
    h.holeSinceMicros = h.pending.length > 0 ? (h.holeSinceMicros < 0 ? ts : h.holeSinceMicros) : -1;
    if (h.finAbs >= 0 && h.nextAbs >= h.finAbs) h.finished = true;
  }

  /** Declares holes as gaps while a direction is over its limits. */
  #enforce(flow: Flow, h: Half, dir: Direction, ts: number): void {
    const L = this.#limits;
    while (
      h.pending.length > 0 &&
      (h.bytes > L.maxBufferedBytesPerDirection ||
        h.pending.length > L.maxSegmentsPerDirection ||
        this.#buffered > L.maxBufferedBytesTotal ||
        ts - h.holeSinceMicros > L.gapTimeoutMicros)
    ) {
      this.#skipHole(flow, h, dir, ts);
      // The next hole (if any) starts waiting now.
      if (h.pending.length > 0) h.holeSinceMicros = ts;
    }
  }

  #skipHole(flow: Flow, h: Half, dir: Direction, ts: number): void {
    const first = h.pending[0];
    if (!first) return;
    const len = first.start - h.nextAbs;
    if (len > 0) this.#gap(flow, h, dir, len, ts);
    this.#drain(flow, h, dir, ts);
  }

  #gap(flow: Flow, h: Half, dir: Direction, len: number, ts: number): void {
    h.nextAbs += len;
    h.nextSeq = (h.nextSeq + len) >>> 0;
    this.counters.gaps++;
    this.counters.gapBytes += len;
    try {
      flow.decoder?.gap(dir, len, ts);
    } catch (err) {
      this.#decoderError(err);
    }
  }

  #end(flow: Flow, ts: number): void {
    if (!this.#flows.delete(flow.key)) return;
    for (const dir of ['toServer', 'toClient'] as const) {
      const h = flow[dir];
      while (h.pending.length > 0) this.#skipHole(flow, h, dir, ts);
      // A FIN beyond the delivered bytes means data between them was never captured.
      if (h.finAbs > h.nextAbs) this.#gap(flow, h, dir, h.finAbs - h.nextAbs, ts);
    }
    this.counters.flowsEnded++;
    try {
      flow.decoder?.end(ts);
    } catch (err) {
      this.#decoderError(err);
    }
    this.#decoderBytes -= flow.decoderBytes;
    flow.decoderBytes = 0;
  }

  /** Takes the decoder's new size and enforces the per-flow and total memory caps. */
  #account(flow: Flow, ts: number): void {
    const L = this.#limits;
    if (flow.decoder?.bufferedBytes) {
      let now = 0;
      try {
        now = flow.decoder.bufferedBytes();
      } catch (err) {
        this.#decoderError(err);
      }
      this.#decoderBytes += now - flow.decoderBytes;
      flow.decoderBytes = now;
    }
    const held = this.#held(flow);
    if (held > L.maxFlowBytes) {
      this.counters.flowsDroppedFlowMemory++;
      this.#drop(flow, ts);
      this.#sink.problem({
        code: 'ING_ERR_FLOW_MEMORY',
        reason: `a TCP flow held ${held} octets, over the per-flow cap of ${L.maxFlowBytes}; flow dropped`,
      });
    }
    while (this.heldBytes > L.maxTotalBytes) {
      let largest: Flow | null = null;
      for (const f of this.#flows.values()) if (!largest || this.#held(f) > this.#held(largest)) largest = f;
      if (!largest || this.#held(largest) === 0) break;
      const total = this.heldBytes;
      this.counters.flowsDroppedTotalMemory++;
      this.#drop(largest, ts);
      this.#sink.problem({
        code: 'ING_ERR_CAPTURE_MEMORY',
        reason: `TCP flows held ${total} octets, over the total cap of ${L.maxTotalBytes}; the largest flow dropped`,
      });
    }
  }

  #held(flow: Flow): number {
    return flow.decoderBytes + flow.toServer.bytes + flow.toClient.bytes;
  }

  /** Forgets a flow and everything held for it; its decoder is not ended (that could parse what it held). */
  #drop(flow: Flow, ts: number): void {
    this.#flows.delete(flow.key);
    for (const h of [flow.toServer, flow.toClient]) {
      this.#buffered -= h.bytes;
      h.bytes = 0;
      h.pending = [];
      h.finished = true;
    }
    this.#decoderBytes -= flow.decoderBytes;
    flow.decoderBytes = 0;
    flow.decoder = null;
    this.#dropped.set(flow.key, ts);
    while (this.#dropped.size > this.#limits.maxFlows) {
      const oldest = this.#dropped.keys().next();
      if (oldest.done) break;
      this.#dropped.delete(oldest.value);
    }
  }

  #decoderError(err: unknown): void {
    this.counters.decoderErrors++;
    // Only the error's class: its message could quote intercepted bytes.
    const name = err instanceof Error ? err.name : typeof err;
    this.#sink.problem({ code: 'ING_ERR_DECODER_THREW', reason: `decoder threw ${name}` });
  }
}
