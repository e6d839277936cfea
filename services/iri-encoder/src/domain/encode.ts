// Step 4 of apply(): the values as PS-PDUs (TS 102 232-1) and TS 101 671 HI2 records, each PDU
// numbered from its (LIID, CIN) counter as it is encoded.
import {
  type CcPayload,
  encodeHi2Iri,
  encodePsPdu,
  headerTime,
  IRI_TYPE,
  type IriContents,
  microSecondTimeStamp,
  type PsHeader,
  splitContent,
  TIMESTAMP_QUALIFIER,
} from '@li/etsi';
import type { MatchedEvent } from '@li/schemas';
import type { IriRecordType } from './classify.ts';
import type { EncoderOptions } from './options.ts';
import type { Allocation } from './state.ts';
import type { CcValue, Values } from './values.ts';

type RecordFormat = 'TS102232' | 'TS101671';

export interface EncodedRecord {
  /** HI2 for IRI and HI1 notifications, HI3 for CC (and the segment flag TRIs that bracket CC). */
  handover: 'HI2' | 'HI3';
  format: RecordFormat;
  kind: 'IRI' | 'CC' | 'TRI' | 'HI1';
  liid: string;
  cin: number;
  /** The PS-PDU sequenceNumber; a TS 101 671 record carries that of its PS-PDU twin. */
  sequenceNumber: number;
  iriType?: IriRecordType;
  lemfIds: string[];
  eventId: string;
  bytes: Buffer;
}

const TYPE_NUMBER: Record<IriRecordType, number> = {
  BEGIN: IRI_TYPE.begin,
  CONTINUE: IRI_TYPE.continue,
  END: IRI_TYPE.end,
  REPORT: IRI_TYPE.report,
};

interface HeaderFields {
  liid: string;
  cin: number;
  seq: number;
  micros: number;
  /** timeStampQualifier when both time formats are sent. */
  qualifier: number;
  authorisationCountry: string;
  networkElementIdentifier?: string | undefined;
}

/** The PSHeader of an IRI, CC or HI1 PDU. */
export function psHeader(f: HeaderFields, o: EncoderOptions): PsHeader {
  const h: PsHeader = {
    liid: f.liid,
    communicationIdentifier: { operatorIdentifier: o.operatorIdentifier, cin: f.cin },
    sequenceNumber: f.seq,
    ...(o.timestampFormat === 'BOTH'
      ? {
          timeStamp: f.micros,
          microSecondTimeStamp: microSecondTimeStamp(f.micros),
          timeStampQualifier: f.qualifier,
        }
      : headerTime(f.micros, o.timestampFormat)),
  };
  if (/^[A-Z]{2}$/.test(f.authorisationCountry)) h.authorizationCountryCode = f.authorisationCountry;
  if (f.networkElementIdentifier) h.communicationIdentifier.networkElementIdentifier = f.networkElementIdentifier;
  if (o.deliveryCountryCode) h.communicationIdentifier.deliveryCountryCode = o.deliveryCountryCode;
  return h;
}

/** The records of one event: its IRI (and TS 101 671 twin) first, then its CC PDUs. */
export function encode(m: MatchedEvent, o: EncoderOptions, a: Allocation, v: Values): EncodedRecord[] {
  const records: EncodedRecord[] = [];
  // One object per record, of one shape (no spread of a partial record).
  const push = (
    handover: EncodedRecord['handover'],
    format: RecordFormat,
    kind: EncodedRecord['kind'],
    sequenceNumber: number,
    iriType: IriRecordType | undefined,
    bytes: Buffer,
  ) => {
    const r: EncodedRecord = {
      handover,
      format,
      kind,
      liid: m.liid,
      cin: a.cin,
      sequenceNumber,
      lemfIds: m.lemfIds,
      eventId: m.event.eventId,
      bytes,
    };
    if (iriType !== undefined) r.iriType = iriType;
    records.push(r);
  };
  const header = (seq: number) =>
    psHeader(
      {
        liid: m.liid,
        cin: a.cin,
        seq,
        micros: m.event.occurredAtMicros,
        qualifier: TIMESTAMP_QUALIFIER.timeOfInterception,
        authorisationCountry: m.authorisationCountry,
        networkElementIdentifier: o.networkElementIdentifier,
      },
      o,
    );

  if (v.iri) {
    const { type } = v.iri;
    const seq = a.nextSeq('iri');
    const item: { iriType: number; contents: IriContents; sessionDirection?: number } = {
      iriType: TYPE_NUMBER[type],
      contents: v.iri.contents,
    };
    if (v.iri.sessionDirection !== undefined) item.sessionDirection = v.iri.sessionDirection;
    const bytes = encodePsPdu({ header: header(seq), payload: { kind: 'iri', items: [item] } });
    push('HI2', 'TS102232', 'IRI', seq, type, bytes);
    if (v.iri.hi2) {
      const hi2 = encodeHi2Iri(v.iri.hi2);
      push('HI2', 'TS101671', 'IRI', seq, type, hi2);
    }
  }
  for (const cc of v.cc) encodeCc(cc);
  return records;

  /** One CC PDU, or first-segment TRI + CC PDUs + last-segment TRI for large content. */
  function encodeCc(cc: CcValue): void {
    const parts = splitContent(cc.content, o.maxSegment);
    // Every PDU of the HI3 stream, the flag TRIs included, takes its own number from the CC
    // counter (TS 102 232-1 5.2.7: a PDU's sequenceNumber is unique within its LIID and CIN).
    const tri = (kind: 'firstSegmentFlag' | 'lastSegmentFlag') => {
      const seq = a.nextSeq('cc');
      const bytes = encodePsPdu({ header: header(seq), payload: { kind: 'tri', tri: { kind } } });
      push('HI3', 'TS102232', 'TRI', seq, undefined, bytes);
    };
    if (parts.length > 1) tri('firstSegmentFlag');
    for (const part of parts) {
      const seq = a.nextSeq('cc');
      const item: CcPayload = { payloadDirection: cc.direction, contents: cc.wrap(part) };
      const bytes = encodePsPdu({ header: header(seq), payload: { kind: 'cc', items: [item] } });
      push('HI3', 'TS102232', 'CC', seq, undefined, bytes);
    }
    if (parts.length > 1) tri('lastSegmentFlag');
  }
}
