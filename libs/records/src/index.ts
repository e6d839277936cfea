export type {
  DeliveryHeaders,
  EtsiHeaders,
  HeaderFormat,
  HeaderResult,
  IriType,
  RawHeaders,
  RecordKind,
  ReportHeaders,
} from './headers.ts';
export {
  HEADERS,
  IRI_TYPES,
  RECORD_FORMATS,
  RECORD_KINDS,
  readDeliveryHeaders,
  readEtsiHeaders,
  readEventId,
  readReportHeaders,
  writeDeliveryHeaders,
  writeEtsiHeaders,
  writeEventIdHeader,
  writeReportHeaders,
} from './headers.ts';
export type { LemfStream, ParsedTopic, Stream, SystemTopic } from './topic-names.ts';
export {
  isLemfId,
  isTenantId,
  LEMF_STREAMS,
  parseLemfTopic,
  parseTopic,
  STREAMS,
  SYSTEM_TOPICS,
} from './topic-names.ts';
