// Which record formats a LEMF's transport carries. The encoder writes an Italian-profile IRI
// twice, as a TS 102 232 PS-PDU and as a TS 101 671 HI2 record, both addressed to the
// warrant's LEMFs: an ETSI TCP LEMF must only see PS-PDUs and an HI2 TCP LEMF only TS 101 671
// records, or its decoder meets a record of the other standard mid-stream.
import type { LemfTransport } from '@li/schemas';

export type RecordFormat = 'TS102232' | 'TS101671';

const CARRIED: Record<LemfTransport, readonly RecordFormat[] | 'all'> = {
  ETSI_TCP: ['TS102232'],
  HI2_TCP: ['TS101671'],
  // Files and reports take whatever the LEMF's warrants produce (seed 001 HI2 files, seed 000 reports).
  FTP: 'all',
  SFTP: 'all',
  EMAIL: 'all',
  PIPE: 'all',
};

/** True when the transport carries a record of this format; records without one always go. */
export function carriesFormat(transport: LemfTransport, format: string | undefined): boolean {
  const carried = CARRIED[transport];
  if (carried === 'all' || !format) return true;
  return (carried as readonly string[]).includes(format);
}
