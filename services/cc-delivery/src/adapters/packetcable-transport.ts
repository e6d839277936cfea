// PacketCable 2.0 delivery (seed 000 `pkcable:`). Media: each HI3 record's CC goes out as Call
// Content Connection datagrams over UDP to the media-collecting server (domain/packetcable.ts); UDP
// has no acknowledgement, so a record counts as confirmed once the kernel took its datagrams.
// Signalling: each HI2 record's SIP becomes PCESP CdcPdu messages (domain/packetcable-cdc.ts) on
// the Call Data Connection, one TCP connection to the collecting server, BER records back to back
// (BER is self-delimiting); confirmed once the socket took the bytes. The first HI3 record of a
// call is preceded by its CCOpen on the CDC.
import { createSocket, type Socket } from 'node:dgram';
import { connect, isIPv6, type Socket as TcpSocket } from 'node:net';
import type { Clock } from '@li/core';
import { cccFramesOfPsPdu, encodeCcc } from '../domain/packetcable.ts';
import { CdcCalls, CdcEncodeError, type CdcMessage, encodeCdcPdu } from '../domain/packetcable-cdc.ts';
import {
  type DeliveryTransport,
  initialTransportStatus,
  type OutboundBatch,
  type SendOutcome,
} from '../domain/types.ts';
import { type DeliveryError, dlvError } from '../errors.ts';

export interface PacketCableOptions {
  /** The media-collecting server (the part after `/` of a `pkcable:` destination, else the collecting server). */
  host: string;
  port: number;
  /** The collecting server's Call Data Connection (TCP); without it HI2 records are refused. */
  cdc?: { host: string; port: number };
  clock: Clock;
}

export class PacketCableCccTransport implements DeliveryTransport {
  readonly kind = 'PKT_CCC';
  readonly #o: PacketCableOptions;
  #socket: Socket | null = null;
  #st = initialTransportStatus();
  #tcp: TcpSocket | null = null;
  readonly #calls = new CdcCalls();
  datagrams = 0;
  cdcMessages = 0;

  constructor(o: PacketCableOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#socket) return;
    const s = createSocket(isIPv6(this.#o.host) ? 'udp6' : 'udp4');
    s.on('error', (e: NodeJS.ErrnoException) => this.#note(dlvError('DLV_ERR_CONNECTION_LOST', e.code ?? 'udp')));
    this.#socket = s;
    this.#st.connected = true;
  }

  async send(batch: OutboundBatch): Promise<SendOutcome> {
    const s = this.#socket;
    if (!s) return { confirmed: 0, error: dlvError('DLV_ERR_NOT_CONNECTED', 'not started') };
    let confirmed = 0;
    for (const rec of batch.records) {
      if (rec.stream === 'HI2' && this.#o.cdc) {
        const cdc = this.#calls.ofIri(rec.bytes);
        if (!cdc.ok) return this.#reject(confirmed, `${cdc.code}: ${cdc.reason}`);
        const err = await this.#sendCdc(cdc.messages);
        if (err) return err === 'bad' ? this.#reject(confirmed, 'CDC value') : { confirmed, error: err };
        confirmed++;
        continue;
      }
      if (rec.stream !== 'HI3') return this.#reject(confirmed, `${rec.stream} is not call content`);
      const frames = cccFramesOfPsPdu(rec.bytes);
      if (!frames.ok) return this.#reject(confirmed, `${frames.code}: ${frames.reason}`);
      if (this.#o.cdc) {
        const open = this.#calls.ofContent(rec.bytes);
        if (!open.ok) return this.#reject(confirmed, `${open.code}: ${open.reason}`);
        const err = await this.#sendCdc(open.messages);
        if (err) return err === 'bad' ? this.#reject(confirmed, 'CDC value') : { confirmed, error: err };
      }
      for (const f of frames.frames) {
        const err = await new Promise<Error | null>((resolve) =>
          s.send(encodeCcc(f.cccId, f.micros, f.packet), this.#o.port, this.#o.host, (e) => resolve(e ?? null)),
        );
        if (err) {
          const e = dlvError('DLV_ERR_CONNECTION_LOST', (err as NodeJS.ErrnoException).code ?? 'send');
          this.#note(e);
          return { confirmed, error: e };
        }
        this.datagrams++;
      }
      confirmed++;
    }
    return { confirmed, error: null };
  }

  /** Writes the messages on the CDC (connecting first when needed); 'bad' for a value PCESP cannot carry. */
  async #sendCdc(messages: readonly CdcMessage[]): Promise<DeliveryError | 'bad' | null> {
    if (messages.length === 0) return null;
    let bytes: Buffer;
    try {
      bytes = Buffer.concat(messages.map((m) => encodeCdcPdu(m)));
    } catch (e) {
      if (e instanceof CdcEncodeError) return 'bad';
      throw e;
    }
    const sock = await this.#connectCdc();
    if (!('write' in sock)) return sock;
    const err = await new Promise<Error | null>((resolve) => sock.write(bytes, (e) => resolve(e ?? null)));
    if (err) return this.#lost(err);
    this.cdcMessages += messages.length;
    return null;
  }

  async #connectCdc(): Promise<TcpSocket | DeliveryError> {
    const cur = this.#tcp;
    if (cur && !cur.destroyed) return cur;
    const cdc = this.#o.cdc;
    if (!cdc) return dlvError('DLV_ERR_BAD_CONFIG', 'no CDC address');
    const sock = connect({ host: cdc.host, port: cdc.port, noDelay: true });
    const err = await new Promise<Error | null>((resolve) => {
      sock.once('connect', () => resolve(null));
      sock.once('error', (e) => resolve(e));
    });
    if (err) {
      sock.destroy();
      const e = dlvError('DLV_ERR_CONNECT', (err as NodeJS.ErrnoException).code ?? 'connect');
      this.#note(e);
      return e;
    }
    // The collection function sends nothing back; a read end or error just closes our side.
    sock.on('error', (e: NodeJS.ErrnoException) => this.#note(dlvError('DLV_ERR_CONNECTION_LOST', e.code ?? 'tcp')));
    sock.on('close', () => {
      if (this.#tcp === sock) this.#tcp = null;
    });
    sock.on('data', () => {});
    this.#tcp = sock;
    return sock;
  }

  #lost(err: Error): DeliveryError {
    const e = dlvError('DLV_ERR_CONNECTION_LOST', (err as NodeJS.ErrnoException).code ?? 'send');
    this.#note(e);
    this.#tcp?.destroy();
    this.#tcp = null;
    return e;
  }

  #reject(confirmed: number, why: string): SendOutcome {
    return { confirmed, rejected: true, error: dlvError('DLV_ERR_BAD_RECORD', why) };
  }

  #note(e: DeliveryError): void {
    this.#st = { ...this.#st, lastError: e, lastErrorAt: this.#o.clock.now() };
  }

  status() {
    return { ...this.#st };
  }

  async close(): Promise<void> {
    const s = this.#socket;
    this.#socket = null;
    this.#st.connected = false;
    const tcp = this.#tcp;
    this.#tcp = null;
    if (tcp && !tcp.destroyed) {
      await new Promise<void>((resolve) => tcp.end(() => resolve()));
      tcp.destroy();
    }
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
