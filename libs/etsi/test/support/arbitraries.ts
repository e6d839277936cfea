// fast-check arbitraries for valid record values (encode -> decode identity, asn1c cross-checks).
import fc from 'fast-check';
import type { EmailCc, EmailIri } from '../../src/email.ts';
import type { Hi1Operation } from '../../src/hi1.ts';
import type {
  Hi2CommunicationIdentifier,
  Hi2Iri,
  Hi2IrisContent,
  Hi2TimeStamp,
  IriParameters,
  PartyInformation,
} from '../../src/hi2.ts';
import type { IpIriContents } from '../../src/ipaccess.ts';
import type { IpAddress } from '../../src/ipaddress.ts';
import type { IpmmCc, IpmmIri } from '../../src/ipmm.ts';
import type { KeepaliveOptions } from '../../src/keepalive.ts';
import type { CcPayload, IriPayload, Payload, PsHeader, PsPdu, TriPayload } from '../../src/pspdu.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const strOf = (chars: string, minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...chars.split('')), minLength, maxLength });
const ascii = (min: number, max: number) => fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: max });
const bytes = (max: number, min = 0) => fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u));
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
/** Jan 1970 .. 2100, microseconds. */
const micros = fc.integer({ min: 0, max: 4_102_444_800_000_000 });
const country = strOf('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 2, 2);

const arbIpAddress: fc.Arbitrary<IpAddress> = fc
  .record(
    {
      type: fc.constantFrom(0, 1),
      v: fc.oneof(bytes(4, 4), bytes(16, 16)),
      assignment: fc.constantFrom(1, 2, 3),
    },
    { requiredKeys: ['type', 'v'] },
  )
  .map(({ type, v, assignment }) => {
    const a: IpAddress = { type, value: { kind: 'binary', bytes: v } };
    if (assignment !== undefined) a.assignment = assignment;
    return a;
  });

export const arbHeader: fc.Arbitrary<PsHeader> = fc
  .record(
    {
      liid: strOf(`${ALNUM}-_.`, 1, 25),
      authorizationCountryCode: country,
      operatorIdentifier: ascii(1, 16),
      networkElementIdentifier: ascii(1, 16),
      cin: u32,
      deliveryCountryCode: country,
      sequenceNumber: u32,
      timeStamp: micros,
      interceptionPointId: strOf(ALNUM, 1, 8),
      micro: micros,
      timeStampQualifier: fc.integer({ min: 0, max: 3 }),
    },
    { requiredKeys: ['liid', 'operatorIdentifier', 'sequenceNumber'] },
  )
  .map((r) => {
    const h: PsHeader = {
      domainId: [0, 4, 0, 2, 2, 5, 1, 43],
      liid: r.liid,
      communicationIdentifier: { operatorIdentifier: r.operatorIdentifier },
      sequenceNumber: r.sequenceNumber,
    };
    const ci = h.communicationIdentifier;
    if (r.networkElementIdentifier !== undefined) ci.networkElementIdentifier = r.networkElementIdentifier;
    if (r.cin !== undefined) ci.cin = r.cin;
    if (r.deliveryCountryCode !== undefined) ci.deliveryCountryCode = r.deliveryCountryCode;
    if (r.authorizationCountryCode !== undefined) h.authorizationCountryCode = r.authorizationCountryCode;
    if (r.timeStamp !== undefined) h.timeStamp = r.timeStamp;
    if (r.interceptionPointId !== undefined) h.interceptionPointId = r.interceptionPointId;
    if (r.micro !== undefined) {
      h.microSecondTimeStamp = { seconds: Math.floor(r.micro / 1e6), microSeconds: r.micro % 1_000_000 };
    }
    if (r.timeStampQualifier !== undefined) h.timeStampQualifier = r.timeStampQualifier;
    return h;
  });

const arbIpIriContents: fc.Arbitrary<IpIriContents> = fc.record(
  {
    accessEventType: fc.integer({ min: 0, max: 10 }),
    targetUsername: ascii(0, 40),
    internetAccessType: fc.integer({ min: 0, max: 9 }),
    iPVersion: fc.integer({ min: 1, max: 3 }),
    targetIPAddress: arbIpAddress,
    targetNetworkID: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
    pOPPortNumber: fc.integer({ min: 0, max: 65535 }),
    startTime: micros,
    endTime: micros,
    endReason: fc.integer({ min: 0, max: 4 }),
    octetsReceived: fc.maxSafeNat(),
    octetsTransmitted: fc.maxSafeNat(),
    rawAAAData: bytes(20),
    additionalIPAddress: arbIpAddress,
    authenticationType: fc.integer({ min: 0, max: 4 }),
  },
  { requiredKeys: ['accessEventType', 'targetUsername', 'internetAccessType', 'iPVersion'] },
) as fc.Arbitrary<IpIriContents>;

const iriType = fc.integer({ min: 1, max: 4 });
const direction = fc.integer({ min: 0, max: 4 });

const arbEmailIri: fc.Arbitrary<EmailIri> = fc
  .record(
    {
      eventType: fc.integer({ min: 1, max: 9 }),
      clientAddress: arbIpAddress,
      serverAddress: arbIpAddress,
      clientPort: fc.integer({ min: 0, max: 65535 }),
      serverPort: fc.integer({ min: 0, max: 65535 }),
      serverOctetsSent: fc.maxSafeNat(),
      clientOctetsSent: fc.maxSafeNat(),
      protocolId: fc.constantFrom(1, 2, 3, 4, 255),
      sender: fc.string({ unit: 'grapheme', maxLength: 30 }),
      recipients: fc.array(fc.string({ unit: 'grapheme', maxLength: 30 }), { maxLength: 4 }),
      status: fc.integer({ min: 1, max: 3 }),
      totalRecipientCount: fc.nat(),
      messageId: ascii(0, 40),
      senderValidity: fc.constantFrom(0, 1),
      aaaInformation: fc.oneof(
        fc.record({ kind: fc.constant('pop3' as const), username: ascii(0, 10), aaaResult: fc.constantFrom(1, 2, 3) }),
        fc.record(
          {
            kind: fc.constant('smtp' as const),
            username: ascii(0, 10),
            authMethod: fc.constantFrom(1, 2, 3),
            challenge: bytes(8),
          },
          { requiredKeys: ['kind'] },
        ),
      ),
    },
    { requiredKeys: ['eventType'] },
  )
  .map((r) => ({ objId: [5, 2, 15, 1], ...r }) as EmailIri);

const arbIpmmIri: fc.Arbitrary<IpmmIri> = fc
  .record({ src: arbIpAddress, dst: arbIpAddress, sip: bytes(300) })
  .map(({ src, dst, sip }) => ({
    objId: [5, 5, 6, 1],
    contents: { kind: 'sIPMessage', message: { ipSourceAddress: src, ipDestinationAddress: dst, sipContent: sip } },
  }));

const arbIriPayload: fc.Arbitrary<IriPayload> = fc
  .record(
    {
      iriType,
      sessionDirection: direction,
      payloadDirection: direction,
      timeStamp: micros,
      contents: fc.oneof(
        arbIpIriContents.map((c) => ({ kind: 'iPIRI' as const, value: { objId: [5, 3, 18, 1], contents: c } })),
        arbEmailIri.map((v) => ({ kind: 'emailIRI' as const, value: v })),
        arbIpmmIri.map((v) => ({ kind: 'iPMMIRI' as const, value: v })),
      ),
    },
    { requiredKeys: ['contents'] },
  )
  .map((r) => r as IriPayload);

const arbEmailCc: fc.Arbitrary<EmailCc> = fc
  .record({ format: fc.constantFrom(1, 2), content: bytes(500) })
  .map((r) => ({ objId: [5, 2, 15, 2], ...r }));
const arbIpmmCc: fc.Arbitrary<IpmmCc> = fc
  .record(
    {
      mmccContents: bytes(300),
      frameType: fc.integer({ min: 0, max: 7 }),
      streamIdentifier: bytes(4),
      mmccProtocol: fc.constantFrom(0, 1, 2),
    },
    { requiredKeys: ['mmccContents', 'frameType'] },
  )
  .map((r) => ({ objId: [5, 5, 6, 2], ...r }) as IpmmCc);

const arbCcPayload: fc.Arbitrary<CcPayload> = fc
  .record(
    {
      payloadDirection: direction,
      contents: fc.oneof(
        bytes(1600).map((p) => ({
          kind: 'iPCC' as const,
          value: { objId: [5, 3, 18, 2], contents: { kind: 'iPPackets' as const, packets: p } },
        })),
        arbEmailCc.map((v) => ({ kind: 'emailCC' as const, value: v })),
        arbIpmmCc.map((v) => ({ kind: 'iPMMCC' as const, value: v })),
      ),
    },
    { requiredKeys: ['contents'] },
  )
  .map((r) => r as CcPayload);

const arbTri: fc.Arbitrary<TriPayload> = fc.oneof(
  fc.constantFrom(
    ...(
      [
        'testPDU',
        'keepAlive',
        'keepAliveResponse',
        'firstSegmentFlag',
        'lastSegmentFlag',
        'cINReset',
        'optionComplete',
        'pDUAcknowledgementRequest',
        'pDUAcknowledgementResponse',
      ] as const
    ).map((kind) => ({ kind }) as TriPayload),
  ),
  bytes(40).map((padding) => ({ kind: 'paddingPDU' as const, padding })),
  fc
    .record({ priority: fc.constantFrom(1, 2), message: bytes(255, 1) })
    .map((r) => ({ kind: 'operatorLeaMessage' as const, ...r })),
);

const arbPayload: fc.Arbitrary<Payload> = fc.oneof(
  fc.array(arbIriPayload, { minLength: 1, maxLength: 3 }).map((items) => ({ kind: 'iri' as const, items })),
  fc.array(arbCcPayload, { minLength: 1, maxLength: 3 }).map((items) => ({ kind: 'cc' as const, items })),
  arbTri.map((tri) => ({ kind: 'tri' as const, tri })),
);

export const arbPdu: fc.Arbitrary<PsPdu> = fc.record({ header: arbHeader, payload: arbPayload });

/** PDUs the asn1c IP-access profile can decode: IPIRI, IPCC (iPPackets) and TRI. */
export const arbIpPdu: fc.Arbitrary<PsPdu> = fc.record({
  header: arbHeader,
  payload: fc.oneof(
    fc.record({ iriType, contents: arbIpIriContents }).map(({ iriType, contents }) => ({
      kind: 'iri' as const,
      items: [{ iriType, contents: { kind: 'iPIRI' as const, value: { objId: [5, 3, 18, 1], contents } } }],
    })),
    fc.record({ payloadDirection: direction, packets: bytes(1600, 1) }).map(({ payloadDirection, packets }) => ({
      kind: 'cc' as const,
      items: [
        {
          payloadDirection,
          contents: {
            kind: 'iPCC' as const,
            value: { objId: [5, 3, 18, 2], contents: { kind: 'iPPackets' as const, packets } },
          },
        },
      ],
    })),
  ),
});

const arbParty: fc.Arbitrary<PartyInformation> = fc
  .record(
    {
      qualifier: fc.integer({ min: 0, max: 3 }),
      sipUri: ascii(1, 40),
      telUrl: ascii(1, 20),
      imsi: bytes(8, 3),
      msISDN: bytes(9, 1),
    },
    { requiredKeys: ['qualifier'] },
  )
  .map(({ qualifier, ...identity }) => ({ qualifier, identity }));

export const arbHi2Iri: fc.Arbitrary<Hi2Iri> = fc
  .record(
    {
      recordType: fc.integer({ min: 1, max: 4 }),
      liid: strOf(ALNUM, 1, 25),
      cin: strOf('0123456789', 1, 8),
      op: strOf(ALNUM, 1, 5),
      ne: strOf(`${ALNUM}.`, 1, 25),
      local: fc.boolean(),
      t: fc.integer({ min: 631_152_000_000_000, max: 2_524_607_999_000_000 }),
      dir: fc.integer({ min: 0, max: 2 }),
      parties: fc.array(arbParty, { minLength: 1, maxLength: 10 }),
      sip: bytes(200),
      conv: fc.integer({ min: 0, max: 99 * 3600 }),
    },
    { requiredKeys: ['recordType', 'liid', 'op', 'local', 't'] },
  )
  .map((r) => {
    const params: IriParameters = {
      domainId: [0, 4, 0, 2, 2, 1, 11],
      liid: r.liid,
      communicationIdentifier: { operatorIdentifier: r.op },
      timeStamp: r.local
        ? { kind: 'localTime', micros: r.t, winterSummer: 0 }
        : { kind: 'utcTime', micros: Math.floor(r.t / 1e6) * 1e6 },
    };
    if (r.cin !== undefined) params.communicationIdentifier.cin = r.cin;
    if (r.ne !== undefined) params.communicationIdentifier.networkElementIdentifier = { kind: 'dNS', value: r.ne };
    if (r.dir !== undefined) params.interceptedCallDirection = r.dir;
    if (r.parties !== undefined) params.partyInformation = r.parties;
    if (r.sip !== undefined) params.sipMessage = r.sip;
    if (r.conv !== undefined) params.conversationDurationSeconds = r.conv;
    return { recordType: r.recordType, params };
  });

// ------------------------------------------------------------------------------------------
// The rest of what the encoders write (asn1js cross-check): every optional field, HI1
// notifications, ETSI 671 IRIs inside a PS-PDU, integrity checks, IRI sequences.
// ------------------------------------------------------------------------------------------

const arbFullIpAddress: fc.Arbitrary<IpAddress> = fc
  .record(
    {
      type: fc.constantFrom(0, 1),
      value: fc.oneof(
        fc.oneof(bytes(4, 4), bytes(16, 16)).map((b) => ({ kind: 'binary' as const, bytes: b })),
        fc
          .oneof(fc.ipV4(), fc.ipV6())
          .filter((t) => t.length >= 7 && t.length <= 45) // iPTextAddress is an address as text, 7..45
          .map((text) => ({ kind: 'text' as const, text })),
      ),
      assignment: fc.constantFrom(1, 2, 3),
      iPv6PrefixLength: fc.integer({ min: 1, max: 128 }),
      iPv4SubnetMask: bytes(4, 4),
      natTranslated: fc.boolean(),
    },
    { requiredKeys: ['type', 'value'] },
  )
  .map((a) => a as IpAddress);

const utf8 = (min: number, max: number) => fc.string({ unit: 'grapheme-composite', minLength: min, maxLength: max });

const arbFullIpIriContents: fc.Arbitrary<IpIriContents> = fc.record(
  {
    accessEventType: fc.integer({ min: 0, max: 10 }),
    targetUsername: utf8(0, 40),
    internetAccessType: fc.integer({ min: 0, max: 9 }),
    iPVersion: fc.integer({ min: 1, max: 3 }),
    targetIPAddress: arbFullIpAddress,
    targetNetworkID: utf8(1, 20),
    targetCPEID: utf8(1, 128),
    targetLocation: utf8(1, 64),
    pOPPortNumber: fc.integer({ min: 0, max: 65535 }),
    callBackNumber: strOf('0123456789+', 1, 20),
    startTime: micros,
    endTime: micros,
    endReason: fc.integer({ min: 0, max: 4 }),
    octetsReceived: fc.oneof(fc.maxSafeNat(), fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n })),
    octetsTransmitted: fc.maxSafeNat(),
    rawAAAData: bytes(200),
    expectedEndTime: micros,
    pOPPhoneNumber: strOf('0123456789+', 1, 20),
    pOPIPAddress: arbFullIpAddress,
    additionalIPAddress: arbFullIpAddress,
    authenticationType: fc.integer({ min: 0, max: 4 }),
  },
  { requiredKeys: ['accessEventType', 'targetUsername', 'internetAccessType', 'iPVersion'] },
) as fc.Arbitrary<IpIriContents>;

const arbPartyNumber = fc.record({ tag: fc.integer({ min: 1, max: 3 }), value: bytes(15, 1) });

const arbFullParty: fc.Arbitrary<PartyInformation> = fc
  .record(
    {
      qualifier: fc.integer({ min: 0, max: 3 }),
      imei: bytes(8, 8),
      tei: bytes(15, 1),
      imsi: bytes(8, 3),
      callingPartyNumber: arbPartyNumber,
      calledPartyNumber: arbPartyNumber,
      msISDN: bytes(9, 1),
      e164Format: bytes(25, 1),
      sipUri: utf8(1, 60),
      telUrl: ascii(1, 20),
    },
    { requiredKeys: ['qualifier'] },
  )
  .map(({ qualifier, ...identity }) => ({ qualifier, identity }));

const hi2Ci = fc
  .record(
    {
      cin: strOf('0123456789', 1, 8),
      operatorIdentifier: strOf(ALNUM, 1, 5),
      networkElementIdentifier: fc.oneof(
        fc.record({
          kind: fc.constantFrom('e164' as const, 'x25' as const, 'iP' as const, 'dNS' as const),
          value: strOf(`${ALNUM}.`, 1, 25),
        }),
        arbFullIpAddress.map((address) => ({ kind: 'iPAddress' as const, address })),
      ),
    },
    { requiredKeys: ['operatorIdentifier'] },
  )
  .map((ci) => ci as Hi2CommunicationIdentifier);

const hi2Time: fc.Arbitrary<Hi2TimeStamp> = fc.oneof(
  fc
    .record(
      {
        micros: fc.integer({ min: 631_152_000_000_000, max: 2_524_607_999_000_000 }),
        winterSummer: fc.integer({ min: 0, max: 2 }),
        offsetMinutes: fc.integer({ min: -12 * 60, max: 14 * 60 }),
      },
      { requiredKeys: ['micros', 'winterSummer'] },
    )
    .map((t) => ({ kind: 'localTime' as const, ...t })),
  fc
    .integer({ min: 631_152_000, max: 2_524_607_999 })
    .map((s) => ({ kind: 'utcTime' as const, micros: s * 1_000_000 })),
);

const arbFullIriParameters: fc.Arbitrary<IriParameters> = fc
  .record(
    {
      iriVersion: fc.integer({ min: 1, max: 8 }),
      liid: strOf(ALNUM, 1, 25),
      communicationIdentifier: hi2Ci,
      timeStamp: hi2Time,
      interceptedCallDirection: fc.integer({ min: 0, max: 2 }),
      interceptedCallState: fc.integer({ min: 1, max: 3 }),
      ringingDurationSeconds: fc.integer({ min: 0, max: 99 * 3600 + 59 * 60 + 59 }),
      conversationDurationSeconds: fc.integer({ min: 0, max: 99 * 3600 + 59 * 60 + 59 }),
      partyInformation: fc.array(arbFullParty, { minLength: 1, maxLength: 10 }),
      releaseReason: bytes(2, 2),
      natureOfInterceptedCall: fc.integer({ min: 0, max: 4 }),
      nationalParameters: fc.array(bytes(256, 1), { minLength: 1, maxLength: 3 }),
      sipMessage: bytes(400),
      nationalHI2Asn1Parameters: country.map((countryCode) => ({ countryCode })),
    },
    { requiredKeys: ['liid', 'communicationIdentifier', 'timeStamp'] },
  )
  .map((p) => ({ domainId: [0, 4, 0, 2, 2, 1, 11], ...p }) as IriParameters);

const arbFullHi2Iri: fc.Arbitrary<Hi2Iri> = fc.record({
  recordType: fc.integer({ min: 1, max: 4 }),
  params: arbFullIriParameters,
});

/** IRIsContent with every IRI-Parameters field the encoder writes: one IRI or a sequence. */
export const arbHi2IrisContent: fc.Arbitrary<Hi2IrisContent> = fc.oneof(
  arbFullHi2Iri.map((iri) => ({ kind: 'iRIContent' as const, iri })),
  fc.array(arbFullHi2Iri, { minLength: 1, maxLength: 4 }).map((iris) => ({ kind: 'iRISequence' as const, iris })),
);

const arbHi1Operation: fc.Arbitrary<Hi1Operation> = fc
  .record(
    {
      kind: fc.constantFrom('liActivated' as const, 'liDeactivated' as const, 'liModified' as const),
      domainId: fc.constantFrom(null, [0, 4, 0, 2, 2, 0, 1, 7]),
      liid: strOf(ALNUM, 1, 25),
      communicationIdentifier: hi2Ci,
      timeStamp: hi2Time,
      targetInformation: bytes(256, 1),
    },
    { requiredKeys: ['kind', 'liid', 'timeStamp'] },
  )
  .map(({ kind, ...notification }) => ({ kind, notification }) as Hi1Operation);

const arbIntegrityCheck = fc
  .record(
    {
      includedSequenceNumbers: fc.array(u32, { minLength: 1, maxLength: 50 }),
      checkType: fc.constantFrom(1, 2),
      dataType: fc.constantFrom(1, 2, 3),
      checkValue: bytes(512, 1),
      hashAlgorithm: fc.integer({ min: 1, max: 6 }),
      signatureAlgorithm: fc.integer({ min: 1, max: 6 }),
    },
    { requiredKeys: ['includedSequenceNumbers', 'checkType', 'checkValue'] },
  )
  .map((value) => ({ kind: 'integrityCheck' as const, value }) as TriPayload);

/** PS-PDUs of the payloads arbPdu leaves out: HI1 notifications, ETSI 671 IRIs, integrity checks, full IPIRI/IPCC. */
export const arbMorePdu: fc.Arbitrary<PsPdu> = fc.record({
  header: arbHeader,
  payload: fc.oneof(
    arbHi1Operation.map((operation) => ({ kind: 'hi1' as const, operation })),
    arbIntegrityCheck.map((tri) => ({ kind: 'tri' as const, tri })),
    fc
      .array(
        fc.record(
          {
            iriType,
            timeStamp: micros,
            micro: micros,
            timeStampQualifier: fc.integer({ min: 0, max: 3 }),
            contents: fc.oneof(
              arbFullIriParameters.map((params) => ({
                kind: 'eTSI671IRI' as const,
                value: { kind: 'iRIParameters' as const, params },
              })),
              arbHi2IrisContent.map((content) => ({
                kind: 'eTSI671IRI' as const,
                value: { kind: 'iRIsContent' as const, content },
              })),
              arbFullIpIriContents.map((contents) => ({ kind: 'iPIRI' as const, value: { contents } })),
            ),
          },
          { requiredKeys: ['contents'] },
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((items) => ({
        kind: 'iri' as const,
        items: items.map(({ micro, ...it }) =>
          micro === undefined
            ? it
            : { ...it, microSecondTimeStamp: { seconds: Math.floor(micro / 1e6), microSeconds: micro % 1e6 } },
        ),
      })),
    fc
      .array(
        fc.record(
          {
            payloadDirection: direction,
            timeStamp: micros,
            truncatedPacket: bytes(1600, 1),
            originalLength: fc.integer({ min: 1, max: 65535 }),
          },
          { requiredKeys: ['truncatedPacket'] },
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((items) => ({
        kind: 'cc' as const,
        items: items.map(({ truncatedPacket, originalLength, ...it }) => ({
          ...it,
          contents: {
            kind: 'iPCC' as const,
            value: {
              contents:
                originalLength === undefined
                  ? { kind: 'iPTruncatedPacket' as const, truncatedPacket }
                  : { kind: 'iPTruncatedPacket' as const, truncatedPacket, originalLength },
            },
          },
        })),
      })),
  ),
}) as fc.Arbitrary<PsPdu>;

/** Keep-alive options as the delivery services fill them. */
export const arbKeepaliveOptions: fc.Arbitrary<KeepaliveOptions> = fc
  .record(
    {
      liid: strOf(`${ALNUM}-`, 1, 25),
      operatorIdentifier: ascii(1, 16),
      networkElementIdentifier: ascii(1, 16),
      authorizationCountryCode: country,
      deliveryCountryCode: country,
      sequenceNumber: u32,
      timeMicros: micros,
      timestampFormat: fc.constantFrom('GENERALIZED_TIME' as const, 'MICROSECOND' as const),
    },
    { requiredKeys: ['operatorIdentifier', 'sequenceNumber', 'timeMicros', 'timestampFormat'] },
  )
  .map((o) => o as KeepaliveOptions);
