// Which records a LEMF's transport carries. The encoder addresses every record of a warrant to
// all its LEMFs (`li.lemfs`), whatever their transport, so each LEMF takes only what its
// transport is for. Anything else would be a dead letter in normal operation.
// - Streams: e-mail and PIPE LEMFs take the seed 000 reports only (an HI2/HI3 PS-PDU is no
//   e-mail); TCP and file LEMFs take HI2/HI3 only (reports are composed for e-mail/PIPE LEMFs).
// - Formats: the encoder writes an Italian-profile IRI twice, as a TS 102 232 PS-PDU and as a
//   TS 101 671 HI2 record: an ETSI TCP LEMF must only see PS-PDUs and an HI2 TCP LEMF only
//   TS 101 671 records, or its decoder meets a record of the other standard mid-stream.
import type { LemfTransport } from '@li/schemas';
import type { Stream } from './types.ts';

type RecordFormat = 'TS102232' | 'TS101671';

const FORMATS: Record<LemfTransport, readonly RecordFormat[] | 'all'> = {
  ETSI_TCP: ['TS102232'],
  HI2_TCP: ['TS101671'],
  // Files take both encodings of what the LEMF's warrants produce (seed 001 HI2 files).
  FTP: 'all',
  SFTP: 'all',
  EMAIL: 'all',
  PIPE: 'all',
};

const STREAMS: Record<LemfTransport, readonly Stream[]> = {
  ETSI_TCP: ['HI2', 'HI3'],
  HI2_TCP: ['HI2', 'HI3'],
  FTP: ['HI2', 'HI3'],
  SFTP: ['HI2', 'HI3'],
  EMAIL: ['REPORT'],
  PIPE: ['REPORT'],
};

/** True when the transport carries a record of this format; records without one always go. */
export function carriesFormat(transport: LemfTransport, format: string | undefined): boolean {
  const carried = FORMATS[transport];
  if (carried === 'all' || !format) return true;
  return (carried as readonly string[]).includes(format);
}

/** True when a LEMF on this transport takes a record of this stream and format. */
export function carries(transport: LemfTransport, stream: Stream, format: string | undefined): boolean {
  return STREAMS[transport].includes(stream) && carriesFormat(transport, format);
}
