// How the encoder fills what the events do not say: identifiers, time format, segmenting.
import type { NetworkElementIdentifier } from '@li/etsi';

export interface EncoderOptions {
  /** networkIdentifier.operatorIdentifier; keep it ≤5 characters for TS 101 671 records. */
  operatorIdentifier: string;
  /** networkIdentifier.networkElementIdentifier (≤16), e.g. this mediation function's id. */
  networkElementIdentifier?: string;
  /** deliveryCountryCode of the PSHeader (the LEMFs' country). */
  deliveryCountryCode?: string;
  /** Header time as GeneralizedTime, microSecondTimeStamp, or both (fits every LEMF). */
  timestampFormat: 'GENERALIZED_TIME' | 'MICROSECOND' | 'BOTH';
  /** Authorisation countries whose IRIs are also encoded as TS 101 671 HI2 records. */
  ts101671Countries: readonly string[];
  /** network-Element-Identifier of the TS 101 671 records. */
  hi2NetworkElement?: NetworkElementIdentifier;
  /** Content octets per CC PDU; larger content is segmented. */
  maxSegment: number;
}

export const DEFAULT_OPTIONS: Omit<EncoderOptions, 'operatorIdentifier'> = {
  timestampFormat: 'BOTH',
  ts101671Countries: ['IT'],
  maxSegment: 64_000,
};
