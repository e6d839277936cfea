// Which records a LEMF takes. The encoder addresses every record of a warrant to all its LEMFs
// (`li.lemfs`), whatever their transport, so each LEMF takes only what its transport is for.
// Anything else would be a dead letter in normal operation.
// - Streams: e-mail and PIPE LEMFs take the seed 000 reports only (an HI2/HI3 PS-PDU is no
//   e-mail); TCP and file LEMFs take HI2/HI3 only (reports are composed for e-mail/PIPE LEMFs).
// - Formats: the encoder writes an Italian-profile IRI twice, as a TS 102 232 PS-PDU and as a
//   TS 101 671 HI2 record: an ETSI TCP LEMF must only see PS-PDUs and an HI2 TCP LEMF only
//   TS 101 671 records, or its decoder meets a record of the other standard mid-stream.
// - Files: the transport carries both encodings, the LEMF's files.streams/files.format pick the
//   streams and the ONE format its files hold (fileSelection), so a file never mixes encodings.
// The table is TRANSPORT_TRAITS in @li/schemas, which admf's LEMF validation reads too.
import { fileSelection, type LemfDestination, TRANSPORT_TRAITS, transportCarries } from '@li/schemas';
import type { Stream } from './types.ts';

/** True when the LEMF takes a record of this stream and format (no format: any). */
export function carries(
  dest: Pick<LemfDestination, 'transport' | 'files'>,
  stream: Stream,
  format: string | undefined,
): boolean {
  if (!transportCarries(dest.transport, stream, format)) return false;
  if (TRANSPORT_TRAITS[dest.transport]?.unit !== 'file' || !dest.files) return true;
  const selection = fileSelection(dest.files);
  return (selection.streams as readonly Stream[]).includes(stream) && (!format || format === selection.format);
}
