import { decodeHi2, decodePsPdu, type PsPdu } from '@li/etsi';
import type { MatchedEvent, NormalizedEvent } from '@li/schemas';
import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import type { EncodedRecord } from './encode.ts';
import { DEFAULT_OPTIONS, type EncoderOptions } from './options.ts';
import { commit, type EncoderState, emptyState, expire, restore, type StateChange } from './state.ts';

const OPTS: EncoderOptions = {
  ...DEFAULT_OPTIONS,
  operatorIdentifier: 'ACME',
  networkElementIdentifier: 'MDF-01',
  deliveryCountryCode: 'IT',
  ts101671Countries: ['IT'],
};

let clock = 1_795_300_000_000_000;

function sip(action: string, attributes: Record<string, string>, over: Partial<NormalizedEvent> = {}): NormalizedEvent {
  clock += 1000;
  return sampleEvent({ eventId: `e${clock}`, action, attributes, occurredAtMicros: clock, ...over });
}

/** A matched event as target-match writes it: matchedParties are the event's parties in the matched roles. */
function matched(event: NormalizedEvent, over: Partial<MatchedEvent> = {}): MatchedEvent {
  const roles = over.matchedRoles ?? ['CALLER'];
  return sampleMatched({
    event,
    authorisationCountry: 'DE',
    matchedRoles: roles,
    matchedParties: event.parties.filter((p) => roles.includes(p.role)),
    ...over,
  });
}

/** Applies events in order, committing after each, as the service does after its transaction. */
function run(events: MatchedEvent[], state: EncoderState = emptyState(), opts = OPTS) {
  const records: EncodedRecord[] = [];
  const changes: StateChange[] = [];
  for (const m of events) {
    const r = apply(state, m, opts);
    if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
    records.push(...r.records);
    changes.push(...r.stateChanges);
    commit(state, r.stateChanges);
  }
  return { records, changes, state };
}

function pdu(r: EncodedRecord): PsPdu {
  const d = decodePsPdu(r.bytes);
  if (!d.ok) throw new Error(d.reason);
  return d.value;
}

const iris = (rs: EncodedRecord[]) => rs.filter((r) => r.kind === 'IRI' && r.format === 'TS102232');

describe('SIP call → IPMMIRI with BEGIN/CONTINUE/END', () => {
  const call = () => [
    matched(sip('sip.invite', { method: 'INVITE' })),
    matched(sip('sip.response', { method: 'INVITE', status: '180' })),
    matched(sip('sip.response', { method: 'INVITE', status: '200' })),
    matched(sip('sip.ack', { method: 'ACK' })),
    matched(sip('sip.invite', { method: 'INVITE', reinvite: 'true' })),
    matched(sip('sip.response', { method: 'INVITE', status: '488' })), // failed re-INVITE: not the end
    matched(sip('sip.bye', { method: 'BYE' })),
    matched(sip('sip.response', { method: 'BYE', status: '200' })),
    matched(sip('sip.ack', { method: 'ACK' })), // late: after END
  ];

  it('types, one CIN, gap-free sequence numbers from 0', () => {
    const { records } = run(call());
    const irs = iris(records);
    expect(irs.map((r) => r.iriType)).toEqual([
      'BEGIN',
      'CONTINUE',
      'CONTINUE',
      'CONTINUE',
      'CONTINUE',
      'CONTINUE',
      'CONTINUE',
      'END',
      'REPORT',
    ]);
    expect(new Set(irs.map((r) => r.cin))).toEqual(new Set([1]));
    expect(irs.map((r) => r.sequenceNumber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(records.every((r) => r.format === 'TS102232')).toBe(true); // DE warrant: no TS 101 671
  });

  it('PS-PDU carries LIID, CIN, seq, the SIP message, addresses and direction', () => {
    const [first] = iris(run(call().slice(0, 1)).records);
    const p = pdu(first!);
    expect(p.header).toMatchObject({
      liid: 'LIID0001',
      authorizationCountryCode: 'DE',
      communicationIdentifier: {
        operatorIdentifier: 'ACME',
        networkElementIdentifier: 'MDF-01',
        cin: 1,
        deliveryCountryCode: 'IT',
      },
      sequenceNumber: 0,
      timeStampQualifier: 1,
    });
    expect(p.header.timeStamp).toBeDefined();
    expect(p.header.microSecondTimeStamp).toBeDefined();
    if (p.payload.kind !== 'iri') throw new Error('not IRI');
    const item = p.payload.items[0]!;
    expect(item.iriType).toBe(1);
    expect(item.sessionDirection).toBe(0); // target is the caller: fromTarget
    if (item.contents.kind !== 'iPMMIRI' || item.contents.value.contents.kind !== 'sIPMessage') throw new Error('kind');
    const msg = item.contents.value.contents.message;
    expect(Buffer.from(msg.sipContent).toString()).toContain('INVITE sip:');
    expect([...(msg.ipSourceAddress.value as { bytes: Uint8Array }).bytes]).toEqual([192, 0, 2, 10]);
  });

  it('an unanswered call ends with the final failure; CANCEL flow', () => {
    const { records } = run([
      matched(sip('sip.invite', { method: 'INVITE' }, { communicationId: 'c2' })),
      matched(sip('sip.cancel', { method: 'CANCEL' }, { communicationId: 'c2' })),
      matched(sip('sip.response', { method: 'INVITE', status: '487' }, { communicationId: 'c2' })),
    ]);
    expect(iris(records).map((r) => r.iriType)).toEqual(['BEGIN', 'CONTINUE', 'END']);
  });

  it('REGISTER outside a call is a REPORT', () => {
    const { records } = run([matched(sip('sip.register', { method: 'REGISTER' }, { communicationId: 'reg-1' }))]);
    expect(iris(records).map((r) => r.iriType)).toEqual(['REPORT']);
  });

  it('media of the call: IPMMCC with its own CC counter and the call CIN', () => {
    const media = (n: number) =>
      matched(
        sip(
          'x3.rtp',
          { payloadFormat: '8', payloadDirection: n % 2 ? '3' : '2' },
          {
            category: 'MEDIA',
            protocol: 'x3',
            content: Buffer.from(`rtp-${n}`),
            contentType: 'application/rtp',
          },
        ),
      );
    const { records } = run([call()[0]!, media(1), media(2), call()[2]!]);
    const cc = records.filter((r) => r.kind === 'CC');
    expect(cc.map((r) => [r.cin, r.sequenceNumber, r.handover])).toEqual([
      [1, 0, 'HI3'],
      [1, 1, 'HI3'],
    ]);
    const p = pdu(cc[0]!);
    if (p.payload.kind !== 'cc') throw new Error('kind');
    expect(p.payload.items[0]!.payloadDirection).toBe(0);
    expect(p.payload.items[0]!.contents).toMatchObject({ kind: 'iPMMCC', value: { frameType: 2, mmccProtocol: 0 } });
    expect(iris(records).map((r) => r.sequenceNumber)).toEqual([0, 1]); // IRI counter unaffected
  });

  it('mirrored call media: direction relative to the target, whether it is the caller or the callee', () => {
    const rtp = (from: 'CALLER' | 'CALLEE', kind = 'rtp') =>
      sip(
        `media.${kind}`,
        { mediaFrom: from, mediaKind: kind, 'call-id': 'm1' },
        {
          category: 'MEDIA',
          protocol: 'SIP',
          communicationId: 'm1',
          content: Buffer.from(`${kind}-${from}`),
          contentType: `application/${kind}`,
        },
      );
    const directions = (roles: MatchedEvent['matchedRoles']) => {
      const invite = sip('sip.invite', { method: 'INVITE' }, { communicationId: 'm1' });
      const { records } = run([invite, rtp('CALLER'), rtp('CALLEE')].map((e) => matched(e, { matchedRoles: roles })));
      const cc = records.filter((r) => r.kind === 'CC');
      expect(new Set(cc.map((r) => r.cin))).toEqual(new Set([iris(records)[0]!.cin])); // the call's CIN
      return cc.map((r) => {
        const p = pdu(r);
        if (p.payload.kind !== 'cc') throw new Error('kind');
        return p.payload.items[0]!.payloadDirection;
      });
    };
    // Target is the caller: the caller's audio is from the target.
    expect(directions(['CALLER'])).toEqual([0, 1]);
    // Target is the callee: the caller's audio goes to the target (not labelled by who sent the INVITE).
    expect(directions(['CALLEE'])).toEqual([1, 0]);
    expect(directions(['CALLER', 'CALLEE'])).toEqual([3, 3]);
    // T.38 over UDPTL: IPMMCC with the UDPTL protocol and frame type.
    const fax = run([
      matched(sip('sip.invite', { method: 'INVITE' }, { communicationId: 'm1' })),
      matched(rtp('CALLEE', 'udptl')),
    ]).records.filter((r) => r.kind === 'CC');
    const p = pdu(fax[0]!);
    if (p.payload.kind !== 'cc') throw new Error('kind');
    expect(p.payload.items[0]!.contents).toMatchObject({ kind: 'iPMMCC', value: { frameType: 6, mmccProtocol: 2 } });
  });

  it('no CC when the warrant is IRI only', () => {
    const m = matched(
      sip('x3.rtp', { payloadFormat: '8' }, { category: 'MEDIA', protocol: 'x3', content: Buffer.from('x') }),
      { deliver: 'IRI_ONLY' },
    );
    const r = run([m]);
    expect(r.records).toEqual([]);
    expect(r.changes).toEqual([]); // no CIN is taken for media that is not delivered
  });
});

describe('SIP over X2 → IPMMIRI like mirrored SIP', () => {
  const XID = '29f28e1c-f230-486a-a860-f5a784ab9172';
  /** An X2 PDU with a SIP payload (format 9) as ingest maps it: method/status and Call-ID parsed. */
  function x2(text: string, attributes: Record<string, string>): NormalizedEvent {
    return sip(
      'x2.sip',
      { xid: XID, payloadFormat: '9', payloadDirection: '3', 'call-id': 'c7@pbx', ...attributes },
      {
        protocol: 'x2',
        source: 'x2x3',
        communicationId: `x2x3:${XID}:66`,
        content: Buffer.from(`${text}\r\nCall-ID: c7@pbx\r\n\r\n`),
        contentType: 'message/sip',
      },
    );
  }

  it('INVITE, 200, BYE, 200 give BEGIN, CONTINUE, CONTINUE, END with one CIN; IRI+CC skips nothing', () => {
    const events = [
      x2('INVITE sip:bob@example.com SIP/2.0', { method: 'INVITE' }),
      x2('SIP/2.0 200 OK', { method: 'INVITE', status: '200' }),
      x2('BYE sip:bob@example.com SIP/2.0', { method: 'BYE' }),
      x2('SIP/2.0 200 OK', { method: 'BYE', status: '200' }),
    ].map((e) => matched(e, { deliver: 'IRI_AND_CC' }));
    const state = emptyState();
    const records: EncodedRecord[] = [];
    for (const m of events) {
      const r = apply(state, m, OPTS);
      if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
      expect(r.skipped).toEqual([]);
      records.push(...r.records);
      commit(state, r.stateChanges);
    }
    const out = iris(records);
    expect(out.map((r) => r.iriType)).toEqual(['BEGIN', 'CONTINUE', 'CONTINUE', 'END']);
    expect(new Set(records.map((r) => r.cin)).size).toBe(1);
    expect(records.every((r) => r.kind === 'IRI')).toBe(true); // the SIP message is IRI, not CC
    const p = pdu(out[0]!);
    if (p.payload.kind !== 'iri') throw new Error('kind');
    const c = p.payload.items[0]!.contents;
    if (c.kind !== 'iPMMIRI' || c.value.contents.kind !== 'sIPMessage') throw new Error('not IPMMIRI');
    expect(Buffer.from(c.value.contents.message.sipContent).toString()).toContain('INVITE sip:bob@example.com');
    // The call's X3 media (same correlation ID) is IPMMCC under the call's CIN.
    const media = matched(
      sip(
        'x3.rtp',
        { payloadFormat: '8', payloadDirection: '2' },
        {
          category: 'MEDIA',
          protocol: 'x3',
          communicationId: `x2x3:${XID}:66`,
          content: Buffer.from('rtp'),
        },
      ),
      { deliver: 'IRI_AND_CC' },
    );
    const cc = apply(state, media, OPTS);
    if (!cc.ok) throw new Error(cc.reason);
    expect(cc.records.map((r) => [r.kind, r.cin])).toEqual([['CC', records[0]!.cin]]);
    const ccPdu = pdu(cc.records[0]!);
    expect(ccPdu.payload.kind === 'cc' && ccPdu.payload.items[0]!.contents.kind).toBe('iPMMCC');
  });

  it('an X2 payload that is not SIP stays IP access', () => {
    const e = sip('x2.dhcp', { payloadFormat: '10' }, { protocol: 'x2', communicationId: 'x2x3:d:1' });
    const r = run([matched(e)]);
    const p = pdu(iris(r.records)[0]!);
    expect(p.payload.kind === 'iri' && p.payload.items[0]!.contents.kind).toBe('iPIRI');
  });
});

describe('CIN allocation and sequence state', () => {
  it('same communication keeps its CIN per LIID; new ones increase; LIIDs are independent', () => {
    const { records } = run([
      matched(sip('sip.invite', { method: 'INVITE' }, { communicationId: 'a' })),
      matched(sip('sip.invite', { method: 'INVITE' }, { communicationId: 'b' })),
      matched(sip('sip.invite', { method: 'INVITE' }, { communicationId: 'a' }), { liid: 'LIID0002' }),
      matched(sip('sip.bye', { method: 'BYE' }, { communicationId: 'a' })),
    ]);
    expect(records.map((r) => [r.liid, r.cin, r.sequenceNumber])).toEqual([
      ['LIID0001', 1, 0],
      ['LIID0001', 2, 0],
      ['LIID0002', 1, 0],
      ['LIID0001', 1, 1],
    ]);
  });

  it('apply never mutates the state; changes are explicit key → value updates', () => {
    const state = emptyState();
    const before = JSON.stringify(state);
    const r = apply(state, matched(sip('sip.invite', { method: 'INVITE' })), OPTS);
    expect(JSON.stringify(state)).toBe(before);
    if (!r.ok) throw new Error(r.reason);
    const keys = r.stateChanges.map((c) => c.key);
    expect(keys).toHaveLength(3);
    expect(keys).toEqual(
      expect.arrayContaining(['LIID0001/cin', 'LIID0001/seq/1', expect.stringMatching(/^LIID0001\/comm\//)]),
    );
    // No Call-ID in keys or values (the changelog holds no communication identifiers).
    expect(JSON.stringify(r.stateChanges)).not.toContain('pc33.example.com');
  });

  it('a restart from the changelog continues the numbering without gaps', () => {
    const first = run([
      matched(sip('sip.invite', { method: 'INVITE' })),
      matched(sip('sip.response', { method: 'INVITE', status: '180' })),
    ]);
    const restored = restore(JSON.parse(JSON.stringify(first.changes)) as StateChange[]);
    const second = run([matched(sip('sip.response', { method: 'INVITE', status: '200' }))], restored);
    expect(second.records.map((r) => [r.cin, r.sequenceNumber, r.iriType])).toEqual([[1, 2, 'CONTINUE']]);
  });

  it('sequence numbers wrap to 0 after 2^32-1', () => {
    const state = run([matched(sip('sip.invite', { method: 'INVITE' }))]).state;
    state.entries['LIID0001/seq/1'] = { t: 'seq', iri: 0xffff_ffff, cc: 0 };
    const { records } = run(
      [matched(sip('sip.ack', { method: 'ACK' })), matched(sip('sip.ack', { method: 'ACK' }))],
      state,
    );
    expect(records.map((r) => r.sequenceNumber)).toEqual([0xffff_ffff, 0]);
  });

  it('expire drops ended communications after retention, with their counters', () => {
    const { state } = run([
      matched(sip('sip.invite', { method: 'INVITE' }, { communicationId: 'x' })),
      matched(sip('sip.response', { method: 'BYE', status: '200' }, { communicationId: 'x' })),
    ]);
    expect(expire(state, clock + 1, { endedRetentionMicros: 60e6, idleMicros: 3600e6 })).toEqual([]);
    const gone = expire(state, clock + 61e6, { endedRetentionMicros: 60e6, idleMicros: 3600e6 });
    expect(gone.map((c) => c.key)).toEqual([expect.stringMatching(/\/comm\//), 'LIID0001/seq/1']);
    expect(gone.every((c) => c.value === null)).toBe(true);
  });
});

describe('Italian warrants: TS 101 671 HI2 records too', () => {
  it('each IRI also as an IRIsContent with CIN, operator id, direction and SIP message', () => {
    const { records } = run([
      matched(sip('sip.invite', { method: 'INVITE' }), { authorisationCountry: 'IT', matchedRoles: ['CALLEE'] }),
    ]);
    expect(records.map((r) => r.format)).toEqual(['TS102232', 'TS101671']);
    const hi2 = records[1]!;
    expect(hi2.sequenceNumber).toBe(records[0]!.sequenceNumber);
    const d = decodeHi2(hi2.bytes);
    if (!d.ok || d.value.kind !== 'iRIContent') throw new Error('decode');
    const p = d.value.iri.params;
    expect(d.value.iri.recordType).toBe(1);
    expect(p.communicationIdentifier).toMatchObject({ cin: '1', operatorIdentifier: 'ACME' });
    expect(p.interceptedCallDirection).toBe(2); // terminating-Target
    expect(p.partyInformation).toEqual([
      { qualifier: 0, identity: { sipUri: 'sip:alice@example.com' } },
      { qualifier: 1, identity: { telUrl: 'tel:+390612345678' } },
    ]);
    expect(Buffer.from(p.sipMessage!).toString()).toContain('INVITE');
    expect(p.nationalHI2Asn1Parameters).toEqual({ countryCode: 'IT' });
  });

  it('an operator id longer than TS 101 671 allows is a clear error, not a throw', () => {
    const r = apply(emptyState(), matched(sip('sip.invite', { method: 'INVITE' }), { authorisationCountry: 'IT' }), {
      ...OPTS,
      operatorIdentifier: 'TOO-LONG-OPERATOR',
    });
    expect(r).toMatchObject({ ok: false, code: 'ENC_ERR_INVALID_VALUE' });
  });
});

function mail(
  category: NormalizedEvent['category'],
  action: string,
  over: Partial<NormalizedEvent> = {},
): NormalizedEvent {
  clock += 1000;
  return sampleEvent({
    eventId: `m${clock}`,
    category,
    action,
    protocol: action.split('.')[0]!.toUpperCase(),
    source: 'pcap',
    communicationId: 'smtp-session-1',
    occurredAtMicros: clock,
    parties: [{ role: 'ACCOUNT', type: 'EMAIL', value: 'alice@example.org' }],
    network: { transport: 'tcp', srcAddress: '198.51.100.7', srcPort: 52344, dstAddress: '192.0.2.25', dstPort: 587 },
    attributes: {},
    content: null,
    contentType: null,
    ...over,
  });
}

describe('e-mail → EmailIRI / EmailCC', () => {
  const send = (content: Buffer | null, over: Partial<NormalizedEvent> = {}) =>
    mail('SENT_MAIL', 'smtp.send', {
      parties: [
        { role: 'SENDER', type: 'EMAIL', value: 'alice@example.org' },
        { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@example.net' },
        { role: 'RECIPIENT', type: 'EMAIL', value: 'carol@example.com' },
      ],
      attributes: { messageId: '<1@example.org>', size: '2048' },
      content,
      contentType: content ? 'message/rfc822' : null,
      ...over,
    });

  it('login BEGIN, send CONTINUE (+CC), logout END; failures and downloads REPORT', () => {
    const ev = [
      matched(mail('LOGIN', 'smtp.login'), { matchedRoles: ['ACCOUNT'] }),
      matched(send(Buffer.from('Subject: x\r\n\r\nhi\r\n')), { matchedRoles: ['SENDER'] }),
      matched(mail('SIGNALS', 'smtp.quit'), { matchedRoles: ['ACCOUNT'] }),
      matched(mail('LOGIN', 'imap.login.failed', { communicationId: 'imap-2' }), { matchedRoles: ['ACCOUNT'] }),
      matched(mail('ACCESS', 'pop3.retr', { communicationId: 'pop-3' }), { matchedRoles: ['ACCOUNT'] }),
      matched(mail('MAILBOX', 'imap.mailbox.created', { communicationId: 'imap-2' }), { matchedRoles: ['ACCOUNT'] }),
    ];
    const { records } = run(ev);
    expect(records.map((r) => `${r.kind}:${r.iriType ?? '-'}:${r.cin}:${r.sequenceNumber}`)).toEqual([
      'IRI:BEGIN:1:0',
      'IRI:CONTINUE:1:1',
      'CC:-:1:0',
      'IRI:END:1:2',
      'IRI:REPORT:2:0',
      'IRI:REPORT:3:0',
    ]);
    const get = (i: number) => {
      const p = pdu(records[i]!);
      if (p.payload.kind !== 'iri' || p.payload.items[0]!.contents.kind !== 'emailIRI') throw new Error('kind');
      return p.payload.items[0]!.contents.value;
    };
    expect(get(0)).toMatchObject({ eventType: 5, protocolId: 1, status: 3, clientPort: 52344, serverPort: 587 });
    expect(get(0).aaaInformation).toEqual({ kind: 'smtp', username: 'alice@example.org', aaaResult: 3 });
    expect(get(1)).toMatchObject({
      eventType: 1,
      sender: 'alice@example.org',
      recipients: ['bob@example.net', 'carol@example.com'],
      totalRecipientCount: 2,
      messageId: '<1@example.org>',
      clientOctetsSent: 2048,
    });
    expect(get(3)).toMatchObject({ eventType: 7 });
    expect(get(4)).toMatchObject({ eventType: 6, status: 2, protocolId: 3 });
    expect(get(5)).toMatchObject({ eventType: 3, protocolId: 2 });
    const cc = pdu(records[2]!);
    if (cc.payload.kind !== 'cc') throw new Error('kind');
    expect(cc.payload.items[0]).toMatchObject({
      payloadDirection: 0,
      contents: { kind: 'emailCC', value: { format: 2 } },
    });
  });

  it('Mailbox and Deleted activity has no EmailIRI event: no record, nothing skipped (no DLQ), the session goes on', () => {
    const imap = { communicationId: 'imap-mbx' };
    const message = Buffer.from('Subject: gone\r\n\r\nthe whole deleted message\r\n');
    const ev = [
      matched(mail('LOGIN', 'imap.login', imap), { matchedRoles: ['ACCOUNT'] }),
      matched(mail('MAILBOX', 'imap.mailbox.created', { ...imap, attributes: { mailbox: 'Archive' } })),
      matched(mail('MAILBOX', 'imap.mailbox.renamed', { ...imap, attributes: { mailbox: 'A', newMailbox: 'B' } })),
      matched(mail('NEW_MAIL', 'imap.copy', { ...imap, attributes: { mailbox: 'B' } })),
      matched(
        mail('DELETED_MAIL', 'imap.expunge', {
          ...imap,
          content: message,
          contentType: 'message/rfc822',
          attributes: { mailbox: 'INBOX', expunged: '3' },
        }),
        { deliver: 'IRI_AND_CC' },
      ),
      matched(mail('DELETED_MAIL', 'pop3.dele', { communicationId: 'pop-mbx', attributes: { msgNumber: '1' } })),
      matched(mail('SIGNALS', 'imap.logout', imap), { matchedRoles: ['ACCOUNT'] }),
    ];
    const state = emptyState();
    const results = ev.map((m) => {
      const r = apply(state, m, OPTS);
      if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
      commit(state, r.stateChanges);
      return r;
    });
    expect(results.map((r) => r.skipped)).toEqual(ev.map(() => []));
    expect(results.slice(1, 6).map((r) => r.records.length)).toEqual([0, 0, 0, 0, 0]);
    const records = results.flatMap((r) => r.records);
    expect(records.map((r) => `${r.kind}:${r.iriType}:${r.sequenceNumber}`)).toEqual(['IRI:BEGIN:0', 'IRI:END:1']);
  });

  it("ingest's session ends (imap.logout, smtp.closed) end the CIN with a logoff, and the state then expires", () => {
    const imap = { communicationId: 'imap:127.0.0.1:56396-127.0.0.1:143:1', protocol: 'IMAP' };
    const smtp = { communicationId: 'smtp:127.0.0.1:40134-127.0.0.1:587:1', protocol: 'SMTP' };
    const acct = { matchedRoles: ['ACCOUNT' as const] };
    const { records, state } = run([
      matched(mail('LOGIN', 'imap.login', imap), acct),
      matched(mail('NEW_MAIL', 'imap.append', imap), acct),
      matched(mail('ACCESS', 'imap.fetch', imap), acct),
      matched(mail('LOGIN', 'imap.logout', imap), acct),
      matched(mail('LOGIN', 'smtp.login', smtp), acct),
      matched(mail('LOGIN', 'smtp.closed', smtp), acct), // the connection ended without QUIT
    ]);
    const iri = iris(records);
    expect(iri.map((r) => `${r.cin}:${r.iriType}:${r.sequenceNumber}`)).toEqual([
      '1:BEGIN:0',
      '1:REPORT:1',
      '1:REPORT:2',
      '1:END:3',
      '2:BEGIN:0',
      '2:END:1',
    ]);
    for (const end of [iri[3]!, iri[5]!]) {
      const p = pdu(end);
      if (p.payload.kind !== 'iri' || p.payload.items[0]!.contents.kind !== 'emailIRI') throw new Error('kind');
      expect(p.payload.items[0]!.contents.value).toMatchObject({ eventType: 7, status: 3 }); // logoff, succeeded
    }
    // Ended: gone after the retention (tombstones for the sessions and their counters).
    const policy = { endedRetentionMicros: 60_000_000, idleMicros: 3_600_000_000 };
    const liveKeys = () => Object.keys(state.entries).filter((k) => /\/(comm|seq)\//.test(k));
    expect(liveKeys()).toHaveLength(4);
    expect(expire(state, clock + 59_000_000, policy)).toEqual([]);
    const gone = expire(state, clock + 61_000_000, policy);
    expect(gone.map((c) => c.value)).toEqual([null, null, null, null]);
    commit(state, gone);
    expect(liveKeys()).toEqual([]);
  });

  it('a recipient target does not see the other recipients, only itself', () => {
    const { records } = run([
      matched(send(null, { communicationId: 'mx-9' }), {
        matchedRoles: ['RECIPIENT'],
        matchedParties: [{ role: 'RECIPIENT', type: 'EMAIL', value: 'carol@example.com' }],
      }),
      // a record written before matchedParties existed: no recipient is listed
      matched(send(null, { communicationId: 'mx-10' }), { matchedRoles: ['RECIPIENT'], matchedParties: undefined }),
    ]);
    const p = pdu(records[0]!);
    if (p.payload.kind !== 'iri' || p.payload.items[0]!.contents.kind !== 'emailIRI') throw new Error('kind');
    const v = p.payload.items[0]!.contents.value;
    expect(v.recipients).toEqual(['carol@example.com']);
    const old = pdu(records[1]!);
    if (old.payload.kind !== 'iri' || old.payload.items[0]!.contents.kind !== 'emailIRI') throw new Error('kind');
    expect(old.payload.items[0]!.contents.value.recipients).toBeUndefined();
    expect(v.totalRecipientCount).toBe(2);
    expect(records[0]!.iriType).toBe('REPORT'); // mail event outside a session
  });

  it('large messages are segmented between first/last-segment TRIs, gap-free', () => {
    const big = Buffer.alloc(150_000, 0x41);
    const { records } = run([matched(send(big, { communicationId: 'big-1' }), { matchedRoles: ['SENDER'] })]);
    expect(records.map((r) => `${r.kind}:${r.sequenceNumber}`)).toEqual([
      'IRI:0',
      'TRI:0',
      'CC:1',
      'CC:2',
      'CC:3',
      'TRI:4',
    ]);
    const parts = records
      .filter((r) => r.kind === 'CC')
      .map((r) => {
        const p = pdu(r);
        if (p.payload.kind !== 'cc' || p.payload.items[0]!.contents.kind !== 'emailCC') throw new Error('kind');
        return Buffer.from(p.payload.items[0]!.contents.value.content);
      });
    expect(Buffer.concat(parts).equals(big)).toBe(true);
    const flags = records.filter((r) => r.kind === 'TRI').map((r) => pdu(r).payload);
    expect(flags).toEqual([
      { kind: 'tri', tri: { kind: 'firstSegmentFlag' } },
      { kind: 'tri', tri: { kind: 'lastSegmentFlag' } },
    ]);
  });

  it('issue 17: every HI3 PDU of a (LIID, CIN) has its own number across segmented and small messages', () => {
    const big = Buffer.alloc(150_000, 0x41);
    const { records } = run([
      matched(send(big, { communicationId: 'seg-1' }), { matchedRoles: ['SENDER'] }),
      matched(send(Buffer.from('Subject: hi\r\n\r\nsmall'), { communicationId: 'seg-1' }), {
        matchedRoles: ['SENDER'],
      }),
      matched(send(big, { communicationId: 'seg-1' }), { matchedRoles: ['SENDER'] }),
    ]);
    const hi3 = records.filter((r) => r.handover === 'HI3');
    expect(hi3.map((r) => r.kind).join(' ')).toBe('TRI CC CC CC TRI CC TRI CC CC CC TRI');
    expect(new Set(hi3.map((r) => r.cin)).size).toBe(1);
    // The number in the record and in the PS-PDU header: 0..n, each once.
    expect(hi3.map((r) => r.sequenceNumber)).toEqual(hi3.map((_, i) => i));
    expect(hi3.map((r) => pdu(r).header.sequenceNumber)).toEqual(hi3.map((_, i) => i));
  });
});

describe('MSNP and other IP → IPIRI / IPCC', () => {
  const msnp = (action: string, over: Partial<NormalizedEvent> = {}) => {
    clock += 1000;
    return sampleEvent({
      eventId: `n${clock}`,
      category: 'SIGNALS',
      action,
      protocol: 'MSNP',
      source: 'pcap',
      communicationId: 'msnp-flow-1',
      occurredAtMicros: clock,
      parties: [{ role: 'ACCOUNT', type: 'EMAIL', value: 'bob@hotmail.example' }],
      network: { transport: 'tcp', srcAddress: '203.0.113.5', srcPort: 40000, dstAddress: '192.0.2.1', dstPort: 1863 },
      attributes: {},
      content: null,
      contentType: null,
      ...over,
    });
  };

  it('signin BEGIN, msg CONTINUE, signout END with the target as username and client IP', () => {
    const { records, state } = run([
      matched(msnp('msnp.signin'), { matchedRoles: ['ACCOUNT'] }),
      matched(msnp('msnp.msg', { content: Buffer.from('MIME-Version: 1.0\r\n\r\nhi'), contentType: 'text/x-msmsgs' }), {
        matchedRoles: ['ACCOUNT'],
      }),
      matched(msnp('msnp.signout'), { matchedRoles: ['ACCOUNT'] }),
    ]);
    expect(records.map((r) => r.iriType)).toEqual(['BEGIN', 'CONTINUE', 'END']);
    const p = pdu(records[0]!);
    if (p.payload.kind !== 'iri' || p.payload.items[0]!.contents.kind !== 'iPIRI') throw new Error('kind');
    expect(p.payload.items[0]!.contents.value.contents).toMatchObject({
      accessEventType: 1,
      targetUsername: 'bob@hotmail.example',
      iPVersion: 1,
      targetIPAddress: { type: 0, value: { kind: 'binary', bytes: Buffer.from([203, 0, 113, 5]) } },
    });
    expect(Object.keys(state.entries)).toHaveLength(3);
  });

  it('application content is not forced into IPCC: it is reported as skipped', () => {
    const r = apply(
      emptyState(),
      matched(msnp('msnp.msg', { content: Buffer.from('hi'), contentType: 'text/x-msmsgs' }), {
        matchedRoles: ['ACCOUNT'],
      }),
      OPTS,
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.records.map((x) => x.kind)).toEqual(['IRI']);
    expect(r.skipped).toEqual([{ what: 'CC', reason: 'content type text/x-msmsgs is not an IP packet' }]);
  });

  it('IP packets become IPCC', () => {
    const packet = Buffer.from('4500001c00004000401100000a0000010a000002a4d5003500080000', 'hex');
    const r = apply(
      emptyState(),
      matched(msnp('msnp.msg', { content: packet, contentType: 'application/vnd.li.ip-packet' }), {
        matchedRoles: ['ACCOUNT'],
      }),
      OPTS,
    );
    if (!r.ok) throw new Error(r.reason);
    const cc = r.records.find((x) => x.kind === 'CC')!;
    const p = pdu(cc);
    expect(p.payload).toMatchObject({
      kind: 'cc',
      items: [{ contents: { kind: 'iPCC', value: { contents: { kind: 'iPPackets', packets: packet } } } }],
    });
  });
});

describe('MSNP messages captured on the wire → IPIRI + IPCC of the rebuilt packets', () => {
  const MSG = Buffer.from('MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello there');
  const msg = (over: Partial<NormalizedEvent> = {}) => {
    clock += 1000;
    return sampleEvent({
      eventId: `s${clock}`,
      category: 'SIGNALS',
      action: 'msnp.msg',
      protocol: 'MSNP',
      source: 'pcap',
      communicationId: 'msnp-sb-1',
      occurredAtMicros: clock,
      parties: [
        { role: 'SENDER', type: 'EMAIL', value: 'bob@hotmail.example' },
        { role: 'RECIPIENT', type: 'EMAIL', value: 'alice@hotmail.example' },
      ],
      network: { transport: 'tcp', srcAddress: '203.0.113.5', srcPort: 40000, dstAddress: '192.0.2.1', dstPort: 1863 },
      attributes: { msnpRole: 'switchboard', msnpDirection: 'toServer', ackType: 'N' },
      content: MSG,
      contentType: 'application/x-msnp-msg',
      ...over,
    });
  };
  const ccPackets = (records: EncodedRecord[]) =>
    records
      .filter((r) => r.kind === 'CC')
      .map((r) => {
        const p = pdu(r);
        if (p.payload.kind !== 'cc' || p.payload.items[0]!.contents.kind !== 'iPCC') throw new Error('kind');
        const c = p.payload.items[0]!.contents.value.contents;
        if (c.kind !== 'iPPackets') throw new Error('kind');
        return {
          packet: Buffer.from(c.packets),
          direction: p.payload.items[0]!.payloadDirection,
          seq: r.sequenceNumber,
        };
      });
  const ones = (b: Buffer, from: number, to: number) => {
    let s = 0;
    for (let i = from; i < to; i += 2) s += (b[i]! << 8) | (i + 1 < to ? b[i + 1]! : 0);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return s;
  };

  it('an MSG gives one IRI and an IPCC whose IPv4/TCP packet carries the captured payload, no DLQ reason', () => {
    const r = apply(
      emptyState(),
      matched(msg(), { matchedRoles: ['SENDER'], matchedParties: [msg().parties[0]!] }),
      OPTS,
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.skipped).toEqual([]);
    expect(r.records.map((x) => `${x.handover}/${x.kind}`)).toEqual(['HI2/IRI', 'HI3/CC']);
    const [cc] = ccPackets(r.records);
    const ip = cc!.packet;
    expect(cc!.direction).toBe(0); // fromTarget: the target sent it
    expect(ip[0]).toBe(0x45);
    expect(ip.readUInt16BE(2)).toBe(ip.length);
    expect(ip[9]).toBe(6);
    expect([...ip.subarray(12, 16)]).toEqual([203, 0, 113, 5]); // client -> server, as it travelled
    expect([...ip.subarray(16, 20)]).toEqual([192, 0, 2, 1]);
    expect(ones(ip, 0, 20)).toBe(0xffff); // valid IPv4 header checksum
    const tcp = ip.subarray(20);
    expect(tcp.readUInt16BE(0)).toBe(40000);
    expect(tcp.readUInt16BE(2)).toBe(1863);
    expect(tcp[13]).toBe(0x18);
    // TCP checksum over the pseudo-header and the segment
    const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 6, tcp.length >> 8, tcp.length & 0xff]), tcp]);
    expect(ones(pseudo, 0, pseudo.length)).toBe(0xffff);
    expect(tcp.subarray(20).equals(MSG)).toBe(true);
  });

  it('a message from the server side is rebuilt server -> client; large payloads become several packets', () => {
    const big = Buffer.alloc(3000, 0x61);
    const r = apply(
      emptyState(),
      matched(msg({ content: big, attributes: { msnpDirection: 'toClient', senderDisplayName: 'Alice' } }), {
        matchedRoles: ['RECIPIENT'],
      }),
      OPTS,
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.skipped).toEqual([]);
    const ccs = ccPackets(r.records);
    expect(ccs.map((c) => [c.seq, c.direction, c.packet.length - 40])).toEqual([
      [0, 1, 1460],
      [1, 1, 1460],
      [2, 1, 80],
    ]);
    expect([...ccs[0]!.packet.subarray(12, 16)]).toEqual([192, 0, 2, 1]);
    expect(ccs.map((c) => c.packet.subarray(20).readUInt32BE(4))).toEqual([0, 1460, 2920]);
    expect(Buffer.concat(ccs.map((c) => c.packet.subarray(40))).equals(big)).toBe(true);
  });

  it('IPv6 flows give IPv6 packets; a voice invitation (MEDIA) gets IPCC too', () => {
    const r = apply(
      emptyState(),
      matched(
        msg({
          category: 'MEDIA',
          action: 'msnp.invite',
          network: {
            transport: 'tcp',
            srcAddress: '2001:db8::5',
            srcPort: 40000,
            dstAddress: '2001:db8::1',
            dstPort: 1863,
          },
        }),
        { matchedRoles: ['SENDER'] },
      ),
      OPTS,
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.skipped).toEqual([]);
    const [cc] = ccPackets(r.records);
    expect(cc!.packet[0]! >> 4).toBe(6);
    expect(cc!.packet.readUInt16BE(4)).toBe(20 + MSG.length);
    expect(cc!.packet.subarray(60).equals(MSG)).toBe(true);
  });

  it('IRI only when the warrant does not deliver content', () => {
    const r = apply(emptyState(), matched(msg(), { matchedRoles: ['SENDER'], deliver: 'IRI_ONLY' }), OPTS);
    if (!r.ok) throw new Error(r.reason);
    expect(r.records.map((x) => x.kind)).toEqual(['IRI']);
    expect(r.skipped).toEqual([]);
  });
});

describe('matchedParties', () => {
  it("IPIRI's targetUsername is the party that matched", () => {
    const e = sampleEvent({
      category: 'SIGNALS',
      action: 'msnp.sb.call',
      protocol: 'MSNP',
      communicationId: 'sb-2',
      parties: [
        { role: 'SENDER', type: 'EMAIL', value: 'bob@hotmail.example' },
        { role: 'RECIPIENT', type: 'EMAIL', value: 'carol@hotmail.example' },
        { role: 'RECIPIENT', type: 'EMAIL', value: 'alice@hotmail.example' },
      ],
      network: { transport: 'tcp', srcAddress: '203.0.113.5', srcPort: 40000, dstAddress: '192.0.2.1', dstPort: 1863 },
      attributes: {},
      content: null,
      contentType: null,
    });
    const r = apply(
      emptyState(),
      matched(e, {
        matchedRoles: ['RECIPIENT'],
        matchedParties: [{ role: 'RECIPIENT', type: 'EMAIL', value: 'alice@hotmail.example' }],
      }),
      OPTS,
    );
    if (!r.ok) throw new Error(r.reason);
    const p = pdu(r.records[0]!);
    if (p.payload.kind !== 'iri' || p.payload.items[0]!.contents.kind !== 'iPIRI') throw new Error('kind');
    expect(p.payload.items[0]!.contents.value.contents.targetUsername).toBe('alice@hotmail.example');
  });
});

describe('bad input', () => {
  it('a SIP event without its message is an error result', () => {
    const r = apply(emptyState(), matched(sip('sip.invite', { method: 'INVITE' }, { content: null })), OPTS);
    expect(r).toMatchObject({ ok: false, code: 'ENC_ERR_MISSING_CONTENT' });
  });

  it('a LIID the PS-PDU cannot carry is an error result', () => {
    const r = apply(emptyState(), matched(sip('sip.invite', { method: 'INVITE' }), { liid: 'X'.repeat(30) }), OPTS);
    expect(r).toMatchObject({ ok: false, code: 'ENC_ERR_INVALID_VALUE' });
  });

  it('a value outside its ASN.1 range is an ENC_ERR_INVALID_VALUE result naming the field, not bytes', () => {
    const network = {
      transport: 'tcp',
      srcAddress: '198.51.100.7',
      srcPort: 70000,
      dstAddress: '192.0.2.25',
      dstPort: 587,
    };
    const r = apply(emptyState(), matched(mail('SENT_MAIL', 'smtp.send', { network })), OPTS);
    expect(r).toMatchObject({ ok: false, code: 'ENC_ERR_INVALID_VALUE' });
    expect(!r.ok && r.reason).toContain('client-Port');
  });

  it('account administration events give no records', () => {
    const r = apply(emptyState(), matched(mail('ACCOUNT', 'account.renamed')), OPTS);
    expect(r).toMatchObject({ ok: true, records: [], stateChanges: [] });
  });
});
