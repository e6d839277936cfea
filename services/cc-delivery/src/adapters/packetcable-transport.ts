// PacketCable 2.0 Call Content Connection over UDP (seed 000 `pkcable:` media-collecting server).
// Each HI3 record's media goes out as CCC datagrams (domain/packetcable.ts); UDP has no
// acknowledgement, so a record counts as confirmed once the kernel took its datagrams.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Clock } from '@li/core';
import { cccFramesOfPsPdu, encodeCcc } from '../domain/packetcable.ts';
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
  clock: Clock;
}

export class PacketCableCccTransport implements DeliveryTransport {
  readonly kind = 'PKT_CCC';
  readonly #o: PacketCableOptions;
  #socket: Socket | null = null;
  #st = initialTransportStatus();
  datagrams = 0;

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
      if (rec.stream !== 'HI3') return this.#reject(confirmed, `${rec.stream} is not call content`);
      const frames = cccFramesOfPsPdu(rec.bytes);
      if (!frames.ok) return this.#reject(confirmed, `${frames.code}: ${frames.reason}`);
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
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
