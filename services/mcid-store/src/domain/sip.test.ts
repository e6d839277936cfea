import { describe, expect, it } from 'vitest';
import { invite } from '../testing/sip-fixtures.ts';
import {
  dialString,
  diversionOfCause,
  identityKey,
  parseHistoryInfo,
  parseSipText,
  SipEvent,
  splitHeaderList,
} from './sip.ts';

describe('SIP helpers', () => {
  it('identity keys make tel and sip user=phone forms of one number equal', () => {
    expect(identityKey('"Bob" <sip:+1-555-222-0000@ims.example.net;user=phone>;tag=x')).toBe('tel:+15552220000');
    expect(identityKey('tel:+1.555.222.0000;phone-context=x')).toBe('tel:+15552220000');
    expect(identityKey('<sip:Alice@IMS.Example.NET>')).toBe('sip:Alice@ims.example.net');
    expect(identityKey('mailto:x@y')).toBe('');
    expect(identityKey('')).toBe('');
  });

  it('dial strings come out of tel and sip dialstring URIs, percent-decoded', () => {
    expect(dialString('tel:*57;phone-context=ims.example.net')).toBe('*57');
    expect(dialString('sip:%2A57%2A2@ims.example.net;user=dialstring')).toBe('*57*2');
    expect(dialString('sip:ims.example.net')).toBe('');
  });

  it('History-Info entries give RFC 4458 causes and RFC 7044 Reason causes', () => {
    const h = parseHistoryInfo(
      splitHeaderList(
        '<sip:bob@x?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%22>;index=1, <sip:carol@y;cause=486>;index=1.1',
      ),
    );
    expect(h).toEqual([
      { uri: 'sip:bob@x?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%22', index: '1', cause: null, reasonCause: 486 },
      { uri: 'sip:carol@y;cause=486', index: '1.1', cause: 486, reasonCause: null },
    ]);
    expect([302, 486, 408, 404, 480, 487, 503, 500].map(diversionOfCause)).toEqual([
      'CFU',
      'CFB',
      'CFNR',
      'CFNL',
      'CD',
      'CD',
      'CFNRc',
      null,
    ]);
  });

  it('parses folded and compact headers, keeping every instance in order', () => {
    const v = parseSipText(
      'INVITE sip:b@x SIP/2.0\r\nf: <sip:a@x>;tag=1\r\nm: <sip:a@1.2.3.4>\r\nContact: <sip:a@5.6.7.8>\r\nP-Asserted-Identity: <sip:a@x>,\r\n <tel:+1555>\r\n\r\nbody',
    );
    expect(v?.method).toBe('INVITE');
    expect(v?.headers.get('from')).toEqual(['<sip:a@x>;tag=1']);
    expect(v?.headers.get('contact')).toEqual(['<sip:a@1.2.3.4>', '<sip:a@5.6.7.8>']);
    expect(v?.body).toBe('body');
  });

  it('falls back to the ingest attributes when the raw message is absent', () => {
    const e = invite({ callId: 'c1', at: 1, requestUri: 'sip:b@x', pai: ['<sip:a@x>'] });
    e.content = null;
    e.attributes.pai = '<sip:a@x>, <tel:+1555>';
    e.attributes['history-info'] = '<sip:b@x>;index=1\n<sip:c@x;cause=302>;index=1.1';
    const s = new SipEvent(e);
    expect(s.method).toBe('INVITE');
    expect(s.requestUri).toBe('sip:b@x');
    expect(s.callId).toBe('c1');
    expect(s.headers('p-asserted-identity')).toEqual(['<sip:a@x>', '<tel:+1555>']);
    expect(s.headers('history-info')).toHaveLength(2);
  });
});
