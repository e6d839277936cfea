// The seam between the capture layer (packets, IP reassembly, TCP reassembly) and the
// protocol decoders (SIP, SMTP, POP3, IMAP, MSNP). The capture layer owns flows and calls
// a decoder's methods in byte order per direction; decoders never see packets.
import type { NormalizedEvent } from '@li/schemas';
import type { IngestErrorCode } from '../errors.ts';

/** Which way bytes travel; the client is the side that opened the TCP connection. */
export type Direction = 'toServer' | 'toClient';

export interface FlowEndpoints {
  transport: 'tcp' | 'udp';
  clientAddress: string;
  clientPort: number;
  serverAddress: string;
  serverPort: number;
}

/** What a decoder emits: an event without the fields ingest fills in (id, tenant, source). */
export type DecodedEvent = Omit<NormalizedEvent, 'eventId' | 'tenant' | 'source'>;

/** Where a decoder reports what it could not decode: counted and written to the DLQ, never thrown. */
export interface DecodeProblem {
  code: IngestErrorCode;
  reason: string;
}

export interface StreamDecoder {
  /** Contiguous bytes of one direction, in order. */
  data(direction: Direction, bytes: Buffer, tsMicros: number): void;
  /** Bytes that were never captured (a hole the reassembler gave up on). */
  gap(direction: Direction, length: number, tsMicros: number): void;
  /** The flow ended (FIN/RST both ways, or idle timeout). */
  end(tsMicros: number): void;
  /** Octets the decoder holds for this flow (partial lines, message bodies): the capture caps them. */
  bufferedBytes?(): number;
}

export interface DecoderSink {
  event(event: DecodedEvent): void;
  problem(problem: DecodeProblem): void;
}

/** Makes a decoder for a new flow, or null if this factory does not handle the flow. */
export type StreamDecoderFactory = (flow: FlowEndpoints, sink: DecoderSink) => StreamDecoder | null;
