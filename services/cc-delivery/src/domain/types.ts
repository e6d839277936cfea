// Shapes shared by the delivery domain and its adapters. No I/O here.
import type { RecordFormat } from '@li/schemas';
import type { DeliveryError } from '../errors.ts';

export type Stream = 'HI2' | 'HI3' | 'REPORT';

/** Where a record came from, so its offset can be committed once the LEMF has it. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: number;
}

/** One encoded record bound for one LEMF. `seq` is the PS-PDU/IRI sequence number (per LIID, CIN). */
export interface DeliveryRecord {
  lemfId: string;
  liid: string;
  cin: number;
  seq: number;
  stream: Stream;
  /** The record's encoding (li.format header), when it says. */
  format?: RecordFormat;
  bytes: Uint8Array;
  source: SourcePosition;
}

export interface FileMeta {
  liid: string;
  seq: number;
  name: string;
}

/** What the engine hands a transport: plain records, or one closed file of one LIID. */
export interface OutboundBatch {
  records: readonly DeliveryRecord[];
  file: FileMeta | null;
}

/**
 * `confirmed`: how many leading records of the batch the peer confirmed (file renamed, SMTP 250,
 * PDU acknowledged, socket drained). `accepted` (≥ confirmed, default confirmed): how many leading
 * records the transport took over — it delivers them itself (resending after a reconnect) and
 * reports their confirmation later through the `confirmedLater` listener given to start() (ETSI
 * TCP without PDU acknowledgement: a keep-alive answered after them). `rejected`: the record
 * right after the accepted prefix can never be delivered over this transport (dead-letter it).
 * `error`: why the rest was not confirmed.
 */
export interface SendOutcome {
  confirmed: number;
  accepted?: number;
  rejected?: boolean;
  error: DeliveryError | null;
}

/** Records a transport accepted earlier and the LEMF has now confirmed (any order across streams). */
export type ConfirmedLater = (records: readonly DeliveryRecord[]) => void;

export interface TransportStatus {
  connected: boolean;
  lastError: DeliveryError | null;
  lastErrorAt: number | null;
  keepaliveRttMs: number | null;
  /** Records sent again after a reconnect because the transport could not confirm them (plain TCP). */
  resent: number;
}

/** The port every LEMF transport implements. `send` never rejects; failures come back in the outcome. */
export interface DeliveryTransport {
  readonly kind: string;
  start(confirmedLater?: ConfirmedLater): void;
  send(batch: OutboundBatch): Promise<SendOutcome>;
  status(): TransportStatus;
  close(): Promise<void>;
  /** After close(): records it accepted whose confirmation never came, oldest first (to send again). */
  unconfirmed?(): DeliveryRecord[];
}

export function initialTransportStatus(): TransportStatus {
  return { connected: false, lastError: null, lastErrorAt: null, keepaliveRttMs: null, resent: 0 };
}

/** Names one data PDU on a connection: TS 102 232-1 sequence numbers run per (LIID, CIN). */
export interface PduRef {
  liid: string;
  cin: number;
  seq: number;
}

/** What the LEMF sent us on a TS 102 232-1 connection, as the injected codec reads it. */
export type IncomingPdu =
  | { kind: 'keepalive-response'; seq?: number }
  | { kind: 'keepalive'; reply: Uint8Array }
  /** pDUAcknowledgementResponse: acknowledges the one PDU its header names. */
  | { kind: 'ack'; pdu: PduRef }
  | { kind: 'other' };

/**
 * TRI PDUs (TS 102 232-1 cl. 6.3.4 keep-alive, cl. 6.3.6 PDU acknowledgement): the BER codec in
 * libs/etsi implements this; delivery only needs the bytes and a classification.
 */
export interface KeepaliveCodec {
  keepalive(seq: number): Uint8Array;
  /** The pDUAcknowledgementRequest sent right after a data PDU, naming it in its header. */
  ackRequest(pdu: PduRef): Uint8Array;
  classify(pdu: Uint8Array): IncomingPdu;
}
