// One TCP (optionally TLS) connection from us (the DF, TCP client) to a LEMF port, carrying BER
// PDUs back-to-back (TS 102 232-1 cl. 6.3) or TPKT-framed IRI (TS 101 671 profiles).
// Confirmation: PDU acknowledgement when the LEMF supports it (cl. 6.3.6: each PDU followed by a
// request naming it, confirmed by the response naming it, domain/pdu-ack.ts). Else, with
// keep-alives, an answered keep-alive written after the records (domain/keepalive-confirm.ts): until
// then the records sit in a resend window (never dropped; full = no more writes) replayed first
// after a reconnect (cl. 6.3.3), and they are reported through `confirmedLater` once answered.
// Without keep-alives (or the codec), the socket write callback (cl. 6.4.3 weakest definition) plus
// a window that drops its oldest past the bound. Replays are the only duplicates, identifiable by
// (LIID, CIN, seq).
import net from 'node:net';
import tls from 'node:tls';
import type { Clock } from '@li/core';
import { type BackoffPolicy, backoffDelay } from '../domain/backoff.ts';
import { FrameReader, type Framing, tpktWrap } from '../domain/framing.ts';
import { InboundBudget, type InboundLimits } from '../domain/inbound-budget.ts';
import { KeepaliveTimer } from '../domain/keepalive.ts';
import { ConfirmTrigger } from '../domain/keepalive-confirm.ts';
import { PduAcks } from '../domain/pdu-ack.ts';
import { ResendWindow } from '../domain/resend-window.ts';
import type { ConfirmedLater, DeliveryRecord, KeepaliveCodec, SendOutcome, TransportStatus } from '../domain/types.ts';
import { type DeliveryError, dlvError } from '../errors.ts';

export interface PduConnectionOptions {
  host: string;
  port: number;
  tls: tls.ConnectionOptions | null;
  framing: Framing;
  clock: Clock;
  backoff: BackoffPolicy;
  connectTimeoutMs: number;
  keepalive: { intervalMs: number; timeoutMs: number } | null;
  codec: KeepaliveCodec | null;
  acknowledged: boolean;
  ackTimeoutMs: number;
  /**
   * Bytes of drain-confirmed records kept and replayed after an unexpected close (0 = none). Size it
   * above our socket send buffer plus the LEMF's receive buffer: that is what a drop can swallow.
   */
  resendWindowBytes: number;
  /**
   * Keep-alive confirmation: idle time after the last write before a keep-alive confirms what was
   * written (default 200 ms).
   */
  confirmIdleMs?: number;
  /**
   * Keep-alive confirmation: records written after which a keep-alive goes out at once (default
   * none: bytes and idle time only). Below the consumer's high water, or a steady flow of small
   * records stops at it and waits out `confirmIdleMs`.
   */
  confirmEveryRecords?: number;
  /** What the LEMF may send back on this connection; over it, the connection is closed. */
  inbound: InboundLimits;
  /** Each time a connection is up (lemf-deliveries.ts logs plaintext ones). */
  onConnected?: () => void;
  /** A connection closed because the LEMF flooded it or broke the framing. */
  onViolation?: (code: 'DLV_ERR_LEMF_FLOOD' | 'DLV_ERR_LEMF_PROTOCOL') => void;
  random?: () => number;
}

const STABLE_MS = 2000;
const CHUNK_BYTES = 64 * 1024;

interface InFlight {
  total: number;
  confirmed: number;
  /** Keep-alive confirmation: records whose write completed (pacing only; all are in the window). */
  written: number;
  /** Acknowledged connections: the PDUs of this send awaiting their acks. */
  acks: PduAcks | null;
  finish: (error: DeliveryError | null) => void;
}

/** The ack request of each record, up to the first one whose header cannot be encoded. */
function ackRequests(codec: KeepaliveCodec, records: readonly DeliveryRecord[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const r of records) {
    try {
      out.push(codec.ackRequest(r));
    } catch {
      break;
    }
  }
  return out;
}

function mapSocketError(e: NodeJS.ErrnoException): DeliveryError {
  const code = e.code ?? '';
  if (
    /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code) ||
    /certificate|alert|handshake/i.test(e.message)
  ) {
    return dlvError('DLV_ERR_TLS', code || e.message);
  }
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT'].includes(code)) {
    return dlvError('DLV_ERR_CONNECT', code);
  }
  return dlvError('DLV_ERR_CONNECTION_LOST', code || e.message);
}

export class PduConnection {
  readonly #o: PduConnectionOptions;
  #sock: net.Socket | null = null;
  #up = false;
  #closed = true;
  #attempt = 0;
  #cancelRetry: (() => void) | null = null;
  #reader: FrameReader;
  #budget: InboundBudget;
  #inflight: InFlight | null = null;
  #window: ResendWindow<DeliveryRecord>;
  /**
   * Per keep-alive outstanding on this connection, oldest first: the window's position when it was
   * written. Answers come in order (TCP, a LEMF handling PDUs in order), so each answer confirms
   * the oldest mark — whatever sequence number the LEMF puts in it: one naming a later keep-alive
   * must not confirm records written after the one actually answered.
   */
  #keepaliveMarks: number[] = [];
  #replay: DeliveryRecord[] = [];
  #waiters: (() => void)[] = [];
  #keepalive: KeepaliveTimer | null = null;
  /** Records are confirmed by answered keep-alives, not by the write (see the header). */
  readonly #kaConfirm: boolean;
  #trigger: ConfirmTrigger | null = null;
  #confirmedLater: ConfirmedLater | null = null;
  /** Senders waiting for room in a full window. */
  #roomWaiters: (() => void)[] = [];
  #errors = 0;
  #upAt = 0;
  #errorsAtUp = 0;
  #st: TransportStatus = { connected: false, lastError: null, lastErrorAt: null, keepaliveRttMs: null, resent: 0 };

  constructor(o: PduConnectionOptions) {
    this.#o = o;
    this.#reader = new FrameReader(o.framing, o.inbound.maxPduBytes);
    this.#budget = new InboundBudget(o.inbound, o.clock.now());
    this.#kaConfirm =
      !o.acknowledged && o.codec !== null && (o.keepalive?.intervalMs ?? 0) > 0 && o.resendWindowBytes > 0;
    this.#window = new ResendWindow(o.resendWindowBytes, !this.#kaConfirm);
  }

  /** Whether records are confirmed by keep-alive answers (reported to `confirmedLater`), not on the write. */
  get confirmsByKeepalive(): boolean {
    return this.#kaConfirm;
  }

  start(confirmedLater?: ConfirmedLater): void {
    if (confirmedLater) this.#confirmedLater = confirmedLater;
    if (!this.#closed) return;
    this.#closed = false;
    this.#connect();
  }

  status(): TransportStatus {
    return { ...this.#st, connected: this.#up };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelRetry?.();
    this.#keepalive?.stop();
    this.#trigger?.stop();
    const s = this.#sock;
    this.#sock = null;
    this.#up = false;
    this.#inflight?.finish(dlvError('DLV_ERR_CLOSED'));
    this.#wakeWaiters();
    this.#wakeRoom();
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
        const t = setTimeout(() => s.destroy(), 1000);
        t.unref();
      });
    }
  }

  /** After close(): what was accepted but never confirmed by a keep-alive answer, oldest first. */
  unconfirmed(): DeliveryRecord[] {
    if (!this.#kaConfirm) return [];
    const out = [...this.#window.takeAll(), ...this.#replay];
    this.#replay = [];
    return out;
  }

  async send(records: readonly DeliveryRecord[]): Promise<SendOutcome> {
    if (records.length === 0) return { confirmed: 0, error: null };
    if (!this.#up) await this.#waitUp(Math.min(this.#o.connectTimeoutMs, 1000));
    // back-pressure: unconfirmed data stays bounded; an answered keep-alive (or a drop) wakes us
    while (this.#kaConfirm && this.#up && this.#window.full && !this.#closed) {
      this.#trigger?.flush();
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    const sock = this.#sock;
    if (!this.#up || !sock || this.#inflight) {
      return { confirmed: 0, error: this.#st.lastError ?? dlvError('DLV_ERR_NOT_CONNECTED') };
    }
    const codec = this.#o.acknowledged ? this.#o.codec : null;
    let requests: Uint8Array[] = [];
    if (codec) {
      const named = ackRequests(codec, records);
      if (named.length === 0) {
        return {
          confirmed: 0,
          rejected: true,
          error: dlvError('DLV_ERR_BAD_RECORD', 'PDU not nameable in an ack request'),
        };
      }
      // up to the first record no request can name: that one is rejected on the next send
      records = records.slice(0, named.length);
      requests = named;
    }
    return new Promise<SendOutcome>((resolve) => {
      const ack = codec !== null;
      let cancelAckTimer: (() => void) | null = null;
      const byKeepalive = this.#kaConfirm;
      const flight: InFlight = {
        total: records.length,
        confirmed: 0,
        written: 0,
        acks: codec ? new PduAcks(records) : null,
        finish: (error) => {
          if (this.#inflight !== flight) return;
          this.#inflight = null;
          cancelAckTimer?.();
          if (error) this.#noteError(error);
          // keep-alive confirmation: every record is in the window, ours to resend and confirm later
          resolve(
            byKeepalive ? { confirmed: 0, accepted: flight.total, error } : { confirmed: flight.confirmed, error },
          );
        },
      };
      this.#inflight = flight;
      this.#budget.credit(records.length);
      if (ack) {
        cancelAckTimer = this.#o.clock.setTimeout(() => {
          flight.finish(dlvError('DLV_ERR_TIMEOUT', 'PDU acknowledgement'));
          // the ack stream is now out of step with what we sent: start over on a fresh connection
          sock.destroy();
        }, this.#o.ackTimeoutMs);
      }
      // coalesce into ~64 KiB writes: one syscall and one callback per chunk instead of per PDU
      let from = 0;
      while (from < records.length) {
        let to = from;
        let size = 0;
        while (to < records.length && (to === from || size + records[to]!.bytes.length <= CHUNK_BYTES)) {
          size += records[to]!.bytes.length;
          to++;
        }
        const chunk = records.slice(from, to);
        const parts = chunk.flatMap((r, i) =>
          ack ? [this.#frame(r.bytes), this.#frame(requests[from + i]!)] : [this.#frame(r.bytes)],
        );
        const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        // bytes still queued before this write: its completion means the LEMF drained some
        const waited = sock.writableLength > 0;
        // before the write and any keep-alive after it: that keep-alive's answer covers these
        if (byKeepalive) for (const r of chunk) this.#window.remember(r);
        sock.write(buf, (err) => {
          if (err) return flight.finish(mapSocketError(err));
          if (waited) this.#keepalive?.onProgress();
          if (ack) return;
          if (byKeepalive) {
            flight.written += chunk.length;
            if (flight.written === flight.total) flight.finish(null);
            return;
          }
          flight.confirmed += chunk.length;
          for (const r of chunk) this.#window.remember(r);
          if (flight.confirmed === flight.total) flight.finish(null);
        });
        this.#trigger?.wrote(size, chunk.length);
        from = to;
      }
    });
  }

  #wakeRoom(): void {
    const w = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const f of w) f();
  }

  #frame(bytes: Uint8Array): Uint8Array {
    return this.#o.framing === 'tpkt' ? tpktWrap(bytes) : bytes;
  }

  #waitUp(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.#o.clock.setTimeout(resolve, ms);
      this.#waiters.push(() => {
        cancel();
        resolve();
      });
    });
  }

  #wakeWaiters(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #noteError(e: DeliveryError): void {
    this.#errors++;
    this.#st.lastError = e;
    this.#st.lastErrorAt = this.#o.clock.now();
  }

  #connect(): void {
    if (this.#closed) return;
    this.#cancelRetry = null;
    const { host, port } = this.#o;
    let sock: net.Socket;
    try {
      sock = this.#o.tls ? tls.connect({ host, port, ...this.#o.tls }) : net.connect({ host, port });
    } catch (e) {
      this.#noteError(mapSocketError(e as NodeJS.ErrnoException));
      this.#scheduleReconnect();
      return;
    }
    this.#sock = sock;
    sock.setNoDelay(true);
    const cancelTimer = this.#o.clock.setTimeout(() => {
      this.#noteError(dlvError('DLV_ERR_CONNECT', 'connect timeout'));
      sock.destroy();
    }, this.#o.connectTimeoutMs);
    sock.once(this.#o.tls ? 'secureConnect' : 'connect', () => {
      cancelTimer();
      this.#onUp(sock);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => this.#noteError(mapSocketError(e)));
    sock.on('data', (chunk: Buffer) => this.#onData(sock, chunk));
    sock.on('close', () => {
      cancelTimer();
      this.#onDown(sock);
    });
  }

  #onUp(sock: net.Socket): void {
    if (this.#sock !== sock || this.#closed) return;
    this.#up = true;
    this.#upAt = this.#o.clock.now();
    this.#errorsAtUp = this.#errors;
    this.#reader = new FrameReader(this.#o.framing, this.#o.inbound.maxPduBytes);
    this.#budget = new InboundBudget(this.#o.inbound, this.#o.clock.now());
    this.#o.onConnected?.();
    if (this.#o.keepalive && this.#o.codec && this.#o.keepalive.intervalMs > 0) {
      const codec = this.#o.codec;
      this.#keepalive = new KeepaliveTimer({
        intervalMs: this.#o.keepalive.intervalMs,
        timeoutMs: this.#o.keepalive.timeoutMs,
        clock: this.#o.clock,
        // written straight to the socket, never behind the data queue
        send: (seq) => {
          if (sock.destroyed) return;
          this.#keepaliveMarks.push(this.#window.position());
          sock.write(this.#frame(codec.keepalive(seq)));
          this.#trigger?.keepaliveSent();
        },
        onTimeout: () => {
          this.#noteError(dlvError('DLV_ERR_KEEPALIVE_TIMEOUT'));
          sock.destroy();
        },
        onRtt: (ms) => {
          this.#st.keepaliveRttMs = ms;
          // the LEMF read the keep-alive, so everything written before it
          const mark = this.#keepaliveMarks.shift();
          const released = mark !== undefined ? this.#window.confirm(mark) : [];
          if (this.#kaConfirm && released.length > 0) {
            this.#confirmedLater?.(released);
            this.#wakeRoom();
          }
        },
      });
      this.#keepalive.start();
      if (this.#kaConfirm) {
        const keepalive = this.#keepalive;
        this.#trigger = new ConfirmTrigger({
          idleMs: this.#o.confirmIdleMs ?? 200,
          everyBytes: Math.max(1, Math.floor(this.#o.resendWindowBytes / 2)),
          ...(this.#o.confirmEveryRecords ? { everyRecords: this.#o.confirmEveryRecords } : {}),
          clock: this.#o.clock,
          fire: () => keepalive.sendNow(),
        });
      }
    }
    // cl. 6.3.3: buffered PDUs go out again before any new data
    const replay = this.#replay;
    this.#replay = [];
    let replayed = 0;
    for (const r of replay) {
      sock.write(this.#frame(r.bytes));
      this.#window.remember(r);
      replayed += r.bytes.length;
    }
    if (replayed > 0) this.#trigger?.wrote(replayed, replay.length);
    this.#st.resent += replay.length;
    this.#wakeWaiters();
  }

  #onDown(sock: net.Socket): void {
    if (this.#sock !== sock) return;
    this.#sock = null;
    const wasUp = this.#up;
    this.#up = false;
    this.#keepalive?.stop();
    this.#keepalive = null;
    this.#trigger?.stop();
    this.#trigger = null;
    this.#keepaliveMarks = [];
    // back-off resets only after a connection that held: a peer that accepts and then drops us
    // at once (e.g. TLS 1.3 rejecting our certificate after the handshake) must not be hammered
    if (wasUp && this.#o.clock.now() - this.#upAt >= STABLE_MS) this.#attempt = 0;
    this.#inflight?.finish(this.#st.lastError ?? dlvError('DLV_ERR_CONNECTION_LOST'));
    if (wasUp && !this.#closed) {
      if (this.#errors === this.#errorsAtUp) this.#noteError(dlvError('DLV_ERR_CONNECTION_LOST', 'peer closed'));
      // what we only know as "written to the socket" may not have reached the LEMF
      this.#replay = [...this.#window.takeAll(), ...this.#replay];
    }
    this.#wakeRoom();
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#cancelRetry) return;
    const delay = backoffDelay(this.#o.backoff, this.#attempt++, this.#o.random);
    this.#cancelRetry = this.#o.clock.setTimeout(() => this.#connect(), delay);
  }

  /** Closes a connection whose LEMF broke the limits: it hurts only itself (reconnect with back-off). */
  #violation(sock: net.Socket, code: 'DLV_ERR_LEMF_FLOOD' | 'DLV_ERR_LEMF_PROTOCOL', why: string): void {
    if (sock.destroyed || this.#sock !== sock) return;
    this.#noteError(dlvError(code, why));
    this.#o.onViolation?.(code);
    sock.destroy();
  }

  #onData(sock: net.Socket, chunk: Buffer): void {
    if (this.#sock !== sock || sock.destroyed) return; // bytes still buffered after we closed it
    if (!this.#budget.take(chunk.length, this.#o.clock.now())) {
      this.#violation(sock, 'DLV_ERR_LEMF_FLOOD', 'read limit exceeded');
      return;
    }
    const codec = this.#o.codec;
    if (!codec) return; // nothing is expected back on a plain streaming connection
    const { frames, error, tooLarge } = this.#reader.push(chunk);
    if (tooLarge) {
      this.#violation(sock, 'DLV_ERR_LEMF_PROTOCOL', `PDU over ${this.#o.inbound.maxPduBytes} bytes`);
      return;
    }
    for (const f of frames) {
      const pdu = codec.classify(f);
      if (pdu.kind === 'keepalive-response') this.#keepalive?.onResponse(pdu.seq);
      else if (pdu.kind === 'keepalive') {
        sock.write(this.#frame(pdu.reply));
      } else if (pdu.kind === 'ack' && this.#o.acknowledged) {
        const f2 = this.#inflight;
        if (!f2?.acks?.ack(pdu.pdu)) {
          // out of step with what we sent: what it confirms cannot be trusted, start over
          this.#violation(sock, 'DLV_ERR_LEMF_PROTOCOL', 'acknowledgement for no PDU awaiting one');
          return;
        }
        f2.confirmed = f2.acks.confirmed();
        if (f2.confirmed === f2.total) f2.finish(null);
      }
    }
    if (error) this.#violation(sock, 'DLV_ERR_LEMF_PROTOCOL', 'unparseable bytes');
  }
}
