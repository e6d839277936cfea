// Follows the media of every SIP call ingest sees (SDP of offers and answers) and turns the UDP
// datagrams of the calls that are tapped into MEDIA events; datagrams of other calls cost nothing
// beyond a map lookup. Which calls are tapped comes from li.<t>.taps (target-match writes a tap
// when a call's SIP matches a warrant, and after each batch a watermark: how far it has read our
// events). Until a new call is decided (a tap, a watermark past its first event, or at most pendingMs
// of wall time), its media is held in a bounded buffer and sent once the tap arrives, so RTP right
// after the 200 OK, or a capture replayed faster than real time, loses nothing. Packet time drives
// call expiry, wall time the longest wait.
import type { Party } from '@li/schemas';
import type { Datagram } from '../capture/capture.ts';
import type { DecodedEvent } from '../stream.ts';
import { type MediaKind, parseSdp, type SdpMedia } from './sdp.ts';

export type Side = 'CALLER' | 'CALLEE';

export interface MediaLimits {
  /** How long an ended call's endpoints still take packets (late RTP/RTCP after BYE). */
  lingerMicros: number;
  /** Endpoints replaced by a new SDP (a port change) keep taking packets this long. */
  retiredMicros: number;
  /** A call with neither SIP nor media this long is forgotten (its BYE was lost). */
  idleMicros: number;
  /** A call whose last SDP put all its streams on hold (inactive) is forgotten after this long. */
  holdIdleMicros: number;
  /**
   * Longest wall time a new call's media is held waiting for its tap decision; the decision
   * normally comes sooner, from target-match's watermark (see watermark()).
   */
  pendingMs: number;
  /** Bytes held per call, and in all, while waiting for a tap decision. */
  maxPendingBytesPerCall: number;
  maxPendingBytes: number;
  /** Calls followed at once; the oldest is forgotten beyond. */
  maxCalls: number;
}

export const DEFAULT_MEDIA_LIMITS: MediaLimits = {
  lingerMicros: 2_000_000,
  retiredMicros: 5_000_000,
  idleMicros: 60_000_000,
  holdIdleMicros: 3_600_000_000,
  pendingMs: 20_000,
  maxPendingBytesPerCall: 512 * 1024,
  maxPendingBytes: 64 * 1024 * 1024,
  maxCalls: 200_000,
};

export interface MediaCounters {
  calls: number;
  endpoints: number;
  tapped: number;
  /** Media datagrams of followed calls: sent (tapped), held, or not tapped (no cost but a lookup). */
  packetsTapped: number;
  packetsUntapped: number;
  packetsHeld: number;
  /** Held packets sent once their tap arrived, dropped at the caps, or dropped undecided. */
  heldSent: number;
  heldDropped: number;
  callsExpired: number;
}

interface Endpoint {
  call: Call;
  /** The side that receives on this address and port. */
  side: Side;
  kind: MediaKind;
  index: number;
  srtp: boolean;
  /** Packet time after which a replaced endpoint stops counting; Infinity while current. */
  until: number;
}

interface Call {
  callId: string;
  callerTag: string | null;
  parties: Party[];
  /** Current endpoint keys per side and m-line index. */
  current: Record<Side, Map<number, string[]>>;
  keys: Set<string>;
  onHold: boolean;
  endedMicros: number | null;
  lastMicros: number;
  firstSeenMs: number;
  /** This ingest's publication number of the call's first SIP event, and its events partition. */
  firstSeq: number;
  partition: number;
  pending: DecodedEvent[];
  pendingBytes: number;
}

export interface Tap {
  /** Wall time (µs) after which the tap no longer applies. */
  expiresAtMicros: number;
}

const other = (s: Side): Side => (s === 'CALLER' ? 'CALLEE' : 'CALLER');

function tagOf(nameAddr: string | undefined): string | null {
  if (!nameAddr) return null;
  const m = /;\s*tag\s*=\s*([^;,\s>]+)/i.exec(nameAddr);
  return m ? (m[1] as string) : null;
}

function sdpOf(raw: Buffer): string | null {
  let end = raw.indexOf('\r\n\r\n');
  let skip = 4;
  if (end < 0) {
    end = raw.indexOf('\n\n');
    skip = 2;
  }
  if (end < 0 || end + skip >= raw.length) return null;
  const body = raw.toString('latin1', end + skip);
  // application/sdp, or SDP inside a multipart body (the m-line parser skips other lines).
  const v = body.startsWith('v=0') ? 0 : body.indexOf('\nv=0');
  return v < 0 ? null : body.slice(v);
}

export class MediaTracker {
  readonly counters: MediaCounters = {
    calls: 0,
    endpoints: 0,
    tapped: 0,
    packetsTapped: 0,
    packetsUntapped: 0,
    packetsHeld: 0,
    heldSent: 0,
    heldDropped: 0,
    callsExpired: 0,
  };
  private readonly limits: MediaLimits;
  private readonly calls = new Map<string, Call>();
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly taps = new Map<string, Tap>();
  private pendingBytes = 0;
  private lastHousekeepingMicros = 0;
  /** Per li.<t>.events partition: the highest publication number of ours target-match has read. */
  private readonly watermarks = new Map<number, number>();
  private readonly partitionOf: (callId: string) => number;

  constructor(limits: Partial<MediaLimits> = {}, partitionOf: (callId: string) => number = () => 0) {
    this.limits = { ...DEFAULT_MEDIA_LIMITS, ...limits };
    this.partitionOf = partitionOf;
  }

  /**
   * target-match has read partition `partition` of li.<t>.events up to our event number `seq`
   * (ingest numbers the SIP events it publishes, signal()'s seq). Its taps come before its
   * watermark on li.<t>.taps (one partition, one transaction), so a call whose first event is
   * at or below the watermark and has no tap is not tapped: its held media is dropped now
   * instead of after pendingMs. Numbers, not capture times: a replayed old capture is no older.
   */
  watermark(partition: number, seq: number): void {
    if (seq <= (this.watermarks.get(partition) ?? Number.NEGATIVE_INFINITY)) return;
    this.watermarks.set(partition, seq);
    for (const call of this.calls.values()) {
      if (call.pending.length > 0 && call.partition === partition && this.decided(call, null)) this.dropPending(call);
    }
  }

  /** No tap will come for the call (or none came in time). */
  private decided(call: Call, nowMs: number | null): boolean {
    if (this.taps.has(call.callId)) return true;
    if (call.firstSeq <= (this.watermarks.get(call.partition) ?? Number.NEGATIVE_INFINITY)) return true;
    return nowMs !== null && nowMs - call.firstSeenMs >= this.limits.pendingMs;
  }

  /**
   * A SIP event ingest decoded (any transport): follows its call's SDP and end. `seq`: the
   * number ingest gives the event as it publishes it (see watermark()); none: never decided early.
   */
  signal(e: DecodedEvent, nowMs: number, seq = Number.POSITIVE_INFINITY): void {
    if (e.protocol !== 'SIP' || e.category !== 'SIGNALS' || !e.communicationId) return;
    const a = e.attributes;
    const method = (a.method ?? '').toUpperCase();
    const request = e.action !== 'sip.response';
    const status = Number(a.status ?? 0);
    const ts = e.occurredAtMicros;
    let call = this.calls.get(e.communicationId);
    const sdp = e.content ? sdpOf(Buffer.from(e.content)) : null;
    if (!call) {
      // A call starts at its INVITE; one whose start was missed is followed from its first SDP.
      if (!(request && method === 'INVITE') && sdp === null) return;
      call = this.newCall(e, nowMs, seq);
    }
    call.lastMicros = Math.max(call.lastMicros, ts);
    if (request && (method === 'BYE' || method === 'CANCEL')) {
      call.endedMicros ??= ts;
    } else if (!request && method === 'INVITE' && status >= 300 && call.keys.size === 0) {
      call.endedMicros ??= ts; // refused before any media was set up
    }
    if (sdp !== null && call.endedMicros === null) {
      // Who sent this SDP: a request its From, an answer the other side.
      const fromIsCaller = call.callerTag === null || tagOf(a.from) === call.callerTag;
      const sender: Side = request === fromIsCaller ? 'CALLER' : 'CALLEE';
      this.applySdp(call, sender, parseSdp(sdp), ts);
    }
    this.housekeeping(ts, nowMs);
  }

  /**
   * One UDP datagram: the MEDIA events to publish (tapped call), [] when it is media of a followed
   * call that is not (or not yet) tapped, null when it is no followed call's media.
   */
  datagram(d: Datagram, nowMs: number): DecodedEvent[] | null {
    const n = d.network;
    let ep = this.endpoints.get(`${n.dstAddress}|${n.dstPort}`);
    let from: Side;
    if (ep && ep.until >= d.tsMicros) from = other(ep.side);
    else {
      // Symmetric RTP (RFC 4961): a party sends from where it receives.
      ep = this.endpoints.get(`${n.srcAddress}|${n.srcPort}`);
      if (!ep || ep.until < d.tsMicros) return null;
      from = ep.side;
    }
    const call = ep.call;
    call.lastMicros = Math.max(call.lastMicros, d.tsMicros);
    const tap = this.taps.get(call.callId);
    if (tap) {
      this.counters.packetsTapped++;
      return [this.event(call, ep, from, d)];
    }
    if (this.decided(call, nowMs)) {
      this.counters.packetsUntapped++;
      return [];
    }
    // Not decided yet: hold a copy (the capture may reuse its buffer).
    const size = d.payload.length;
    if (
      call.pendingBytes + size > this.limits.maxPendingBytesPerCall ||
      this.pendingBytes + size > this.limits.maxPendingBytes
    ) {
      this.counters.heldDropped++;
      return [];
    }
    this.counters.packetsHeld++;
    call.pending.push(this.event(call, ep, from, { ...d, payload: Buffer.from(d.payload) }));
    call.pendingBytes += size;
    this.pendingBytes += size;
    return [];
  }

  /** A record of li.<t>.taps: the call is tapped (tap) or no longer (null). Returns held media to send. */
  tap(callId: string, tap: Tap | null, nowMs: number): DecodedEvent[] {
    const call = this.calls.get(callId);
    if (tap === null || tap.expiresAtMicros <= nowMs * 1000) {
      // An ended call keeps its tap until it lingers out (late RTCP after the BYE).
      if (call?.endedMicros == null) this.taps.delete(callId);
      if (call) this.dropPending(call);
      return [];
    }
    this.taps.set(callId, tap);
    if (!call || call.pending.length === 0) return [];
    const out = call.pending;
    this.counters.heldSent += out.length;
    this.counters.packetsTapped += out.length;
    call.pending = [];
    this.pendingBytes -= call.pendingBytes;
    call.pendingBytes = 0;
    return out;
  }

  /** Advances time without a packet: expires calls, drops media no tap came for. */
  tick(tsMicros: number, nowMs: number): void {
    this.housekeeping(tsMicros, nowMs, true);
  }

  /** Octets of media held for calls awaiting their tap decision. */
  heldBytes(): number {
    return this.pendingBytes;
  }

  /** Drops what is held for calls whose decision time passed (wall time only, no call expires). */
  settle(nowMs: number): void {
    for (const call of this.calls.values()) {
      if (call.pending.length > 0 && this.decided(call, nowMs)) this.dropPending(call);
    }
  }

  isTapped(callId: string): boolean {
    return this.taps.has(callId);
  }

  stats(): MediaCounters {
    this.counters.calls = this.calls.size;
    this.counters.endpoints = this.endpoints.size;
    this.counters.tapped = this.taps.size;
    return { ...this.counters };
  }

  private newCall(e: DecodedEvent, nowMs: number, seq: number): Call {
    if (this.calls.size >= this.limits.maxCalls) {
      const oldest = this.calls.values().next().value;
      if (oldest) this.forget(oldest);
    }
    const call: Call = {
      callId: e.communicationId,
      callerTag: e.action === 'sip.response' ? null : tagOf(e.attributes.from),
      // The identities of the call as its first message names them, so the media matches the
      // same warrants as the call's SIP, in the same roles.
      parties: e.parties.filter((p) => p.role === 'CALLER' || p.role === 'CALLEE'),
      current: { CALLER: new Map(), CALLEE: new Map() },
      keys: new Set(),
      onHold: false,
      endedMicros: null,
      lastMicros: e.occurredAtMicros,
      firstSeenMs: nowMs,
      firstSeq: seq,
      partition: this.partitionOf(e.communicationId),
      pending: [],
      pendingBytes: 0,
    };
    if (e.action === 'sip.response') {
      // Followed from an answer: its From is still the caller's.
      call.callerTag = tagOf(e.attributes.from);
    }
    this.calls.set(call.callId, call);
    return call;
  }

  private applySdp(call: Call, side: Side, media: SdpMedia[], ts: number): void {
    const held = media.length > 0 && media.every((m) => m.direction === 'inactive' || m.port === 0);
    call.onHold = held;
    for (const m of media) {
      if (m.kind === 'other') continue;
      if (m.port !== 0 && m.address === null) continue; // RFC 2543 hold (c=0.0.0.0): keep the endpoints
      const previous = call.current[side].get(m.index) ?? [];
      const keys: string[] = [];
      if (m.port !== 0 && m.address !== null) {
        keys.push(this.claim(call, side, `${m.address}|${m.port}`, m.kind === 'udptl' ? 'udptl' : 'rtp', m));
        if (m.rtcpPort !== null) keys.push(this.claim(call, side, `${m.address}|${m.rtcpPort}`, 'rtcp', m));
      }
      for (const k of previous) {
        if (keys.includes(k)) continue;
        const ep = this.endpoints.get(k);
        if (ep && ep.call === call) ep.until = ts + this.limits.retiredMicros;
      }
      call.current[side].set(m.index, keys);
    }
  }

  /** The endpoint is this call's from now on, even if an older call (a lost BYE) still had it. */
  private claim(call: Call, side: Side, key: string, kind: MediaKind, m: SdpMedia): string {
    const old = this.endpoints.get(key);
    if (old && old.call !== call) old.call.keys.delete(key);
    this.endpoints.set(key, { call, side, kind, index: m.index, srtp: m.srtp, until: Number.POSITIVE_INFINITY });
    call.keys.add(key);
    return key;
  }

  private event(call: Call, ep: Endpoint, from: Side, d: Datagram): DecodedEvent {
    const attributes: Record<string, string> = {
      'call-id': call.callId,
      mediaFrom: from,
      mediaKind: ep.kind,
      mline: String(ep.index),
    };
    if (ep.srtp) attributes.srtp = 'true';
    // The RTP payload type (RFC 3550 §5.1), for the LEMF's and our own accounting.
    if (ep.kind === 'rtp' && d.payload.length >= 12 && d.payload[0]! >> 6 === 2) {
      const pt = d.payload[1]! & 0x7f;
      // 72-76 with the marker bit are RTCP multiplexed on the RTP port (RFC 5761 §4).
      if (pt >= 64 && pt <= 95) attributes.mediaKind = 'rtcp';
      else attributes.payloadType = String(pt);
    }
    return {
      category: 'MEDIA',
      action: `media.${attributes.mediaKind}`,
      occurredAtMicros: d.tsMicros,
      protocol: 'SIP',
      communicationId: call.callId,
      parties: call.parties,
      network: d.network,
      attributes,
      content: d.payload,
      contentType: `application/${attributes.mediaKind}`,
    };
  }

  private dropPending(call: Call): void {
    this.counters.heldDropped += call.pending.length;
    this.pendingBytes -= call.pendingBytes;
    call.pending = [];
    call.pendingBytes = 0;
  }

  private forget(call: Call): void {
    this.dropPending(call);
    for (const k of call.keys) {
      if (this.endpoints.get(k)?.call === call) this.endpoints.delete(k);
    }
    this.calls.delete(call.callId);
    this.taps.delete(call.callId);
  }

  private housekeeping(ts: number, nowMs: number, force = false): void {
    if (!force && ts - this.lastHousekeepingMicros < 1_000_000) return;
    this.lastHousekeepingMicros = ts;
    const l = this.limits;
    for (const call of [...this.calls.values()]) {
      const undecided = !this.decided(call, nowMs);
      if (!undecided && call.pending.length > 0) this.dropPending(call);
      if (undecided) continue;
      const ended = call.endedMicros !== null && ts - call.endedMicros > l.lingerMicros;
      const idle = ts - call.lastMicros > (call.onHold ? l.holdIdleMicros : l.idleMicros);
      if (ended || idle) {
        if (!ended) this.counters.callsExpired++;
        this.forget(call);
      }
    }
    for (const [k, ep] of this.endpoints) if (ep.until < ts) this.endpoints.delete(k);
    for (const [id, tap] of this.taps) {
      if (tap.expiresAtMicros <= nowMs * 1000 && !this.calls.has(id)) this.taps.delete(id);
    }
  }
}
