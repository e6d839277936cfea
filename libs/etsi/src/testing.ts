// Sample values of every record type, for tests in this and other packages (@li/etsi/testing).
import { EMAIL_EVENT, EMAIL_FORMAT, EMAIL_PROTOCOL, EMAIL_STATUS } from './email.ts';
import { CALL_DIRECTION, HI2_RECORD, type Hi2Iri, IRI_VERSION_LAST, WINTER_SUMMER } from './hi2.ts';
import { ACCESS_EVENT_TYPE, INTERNET_ACCESS_TYPE, IP_VERSION } from './ipaccess.ts';
import { IP_ASSIGNMENT, ipAddressFromString } from './ipaddress.ts';
import { FRAME_TYPE, MMCC_PROTOCOL } from './ipmm.ts';
import {
  IRI_TYPE,
  microSecondTimeStamp,
  PAYLOAD_DIRECTION,
  type Payload,
  type PsHeader,
  type PsPdu,
  TIMESTAMP_QUALIFIER,
} from './pspdu.ts';

export const SAMPLE_MICROS = 1_795_300_000_123_456;

export function sampleHeader(overrides: Partial<PsHeader> = {}): PsHeader {
  return {
    liid: 'LIID0001',
    authorizationCountryCode: 'IT',
    communicationIdentifier: {
      operatorIdentifier: 'ACME',
      networkElementIdentifier: 'MDF-01',
      cin: 305419896,
      deliveryCountryCode: 'IT',
    },
    sequenceNumber: 7,
    timeStamp: SAMPLE_MICROS,
    microSecondTimeStamp: microSecondTimeStamp(SAMPLE_MICROS),
    timeStampQualifier: TIMESTAMP_QUALIFIER.timeOfInterception,
    ...overrides,
  };
}

const ip = (s: string) => ipAddressFromString(s, IP_ASSIGNMENT.notKnown)!;

export const SAMPLE_SIP = Buffer.from(
  'INVITE sip:+390612345678@example.com SIP/2.0\r\nCall-ID: a84b4c76e66710@pc33.example.com\r\nContent-Length: 0\r\n\r\n',
);
/** A minimal IPv4/UDP packet. */
export const SAMPLE_PACKET = Buffer.from('4500001c00004000401100000a0000010a000002a4d5003500080000', 'hex');

export const SAMPLE_PAYLOADS = {
  ipIri: {
    kind: 'iri',
    items: [
      {
        iriType: IRI_TYPE.begin,
        contents: {
          kind: 'iPIRI',
          value: {
            contents: {
              accessEventType: ACCESS_EVENT_TYPE.accessAccept,
              targetUsername: 'user@example.net',
              internetAccessType: INTERNET_ACCESS_TYPE.xDSL,
              iPVersion: IP_VERSION.iPV4,
              targetIPAddress: ip('192.0.2.10'),
              startTime: 1_795_300_000_000_000,
              octetsReceived: 123456789,
              pOPPortNumber: 1863,
            },
          },
        },
      },
    ],
  },
  ipCc: {
    kind: 'cc',
    items: [
      {
        payloadDirection: PAYLOAD_DIRECTION.fromTarget,
        contents: { kind: 'iPCC', value: { contents: { kind: 'iPPackets', packets: SAMPLE_PACKET } } },
      },
    ],
  },
  emailIri: {
    kind: 'iri',
    items: [
      {
        iriType: IRI_TYPE.continue,
        contents: {
          kind: 'emailIRI',
          value: {
            eventType: EMAIL_EVENT.send,
            clientAddress: ip('198.51.100.7'),
            serverAddress: ip('2001:db8::25'),
            clientPort: 52344,
            serverPort: 587,
            clientOctetsSent: 2048,
            protocolId: EMAIL_PROTOCOL.smtp,
            sender: 'alice@example.org',
            recipients: ['bob@example.net', 'carol@example.com'],
            status: EMAIL_STATUS.succeeded,
            totalRecipientCount: 2,
            messageId: '<1234@example.org>',
          },
        },
      },
    ],
  },
  emailCc: {
    kind: 'cc',
    items: [
      {
        payloadDirection: PAYLOAD_DIRECTION.fromTarget,
        contents: {
          kind: 'emailCC',
          value: { format: EMAIL_FORMAT.application, content: Buffer.from('Subject: hi\r\n\r\nhello\r\n') },
        },
      },
    ],
  },
  ipmmIri: {
    kind: 'iri',
    items: [
      {
        iriType: IRI_TYPE.begin,
        contents: {
          kind: 'iPMMIRI',
          value: {
            contents: {
              kind: 'sIPMessage',
              message: {
                ipSourceAddress: ip('192.0.2.10'),
                ipDestinationAddress: ip('192.0.2.20'),
                sipContent: SAMPLE_SIP,
              },
            },
          },
        },
      },
    ],
  },
  ipmmCc: {
    kind: 'cc',
    items: [
      {
        payloadDirection: PAYLOAD_DIRECTION.toTarget,
        contents: {
          kind: 'iPMMCC',
          value: { mmccContents: SAMPLE_PACKET, frameType: FRAME_TYPE.ipFrame, mmccProtocol: MMCC_PROTOCOL.rtp },
        },
      },
    ],
  },
  keepAlive: { kind: 'tri', tri: { kind: 'keepAlive' } },
  keepAliveResponse: { kind: 'tri', tri: { kind: 'keepAliveResponse' } },
  firstSegment: { kind: 'tri', tri: { kind: 'firstSegmentFlag' } },
  lastSegment: { kind: 'tri', tri: { kind: 'lastSegmentFlag' } },
  cinReset: { kind: 'tri', tri: { kind: 'cINReset' } },
  pduAckRequest: { kind: 'tri', tri: { kind: 'pDUAcknowledgementRequest' } },
  operatorLeaMessage: {
    kind: 'tri',
    tri: { kind: 'operatorLeaMessage', priority: 2, message: Buffer.from('maintenance') },
  },
  integrityCheck: {
    kind: 'tri',
    tri: {
      kind: 'integrityCheck',
      value: {
        includedSequenceNumbers: [0, 1, 2, 4294967295],
        checkType: 1,
        dataType: 1,
        checkValue: Buffer.alloc(32, 0xab),
        hashAlgorithm: 2,
      },
    },
  },
} satisfies Record<string, Payload>;

export type SamplePayloadName = keyof typeof SAMPLE_PAYLOADS;

export function samplePdu(name: SamplePayloadName, header: Partial<PsHeader> = {}): PsPdu {
  return { header: sampleHeader(header), payload: SAMPLE_PAYLOADS[name] };
}

export function sampleHi2Iri(recordType: number = HI2_RECORD.begin): Hi2Iri {
  return {
    recordType,
    params: {
      iriVersion: IRI_VERSION_LAST,
      liid: 'LIID0001',
      communicationIdentifier: {
        cin: '12345678',
        operatorIdentifier: 'ACME',
        networkElementIdentifier: { kind: 'dNS', value: 'sbc1.example.it' },
      },
      timeStamp: { kind: 'localTime', micros: 1_795_300_000_123_000, winterSummer: WINTER_SUMMER.notProvided },
      interceptedCallDirection: CALL_DIRECTION.originatingTarget,
      interceptedCallState: 2,
      conversationDurationSeconds: 3723,
      partyInformation: [
        { qualifier: 0, identity: { sipUri: 'sip:alice@example.com', msISDN: Buffer.from('913906214365f7', 'hex') } },
        {
          qualifier: 1,
          identity: { telUrl: 'tel:+390612345678', calledPartyNumber: { tag: 1, value: Buffer.from('0313', 'hex') } },
        },
      ],
      releaseReason: Buffer.from('8090', 'hex'),
      sipMessage: SAMPLE_SIP,
      nationalHI2Asn1Parameters: { countryCode: 'IT' },
    },
  };
}
