import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseNameAddr, uriIdentities } from './uri.ts';

describe('name-addr and URI identities', () => {
  it('parses name-addr and addr-spec forms', () => {
    expect(parseNameAddr('"Bob \\"B\\" <x>" <sip:bob@h;transport=tcp>;tag=9')).toEqual({
      display: 'Bob "B" <x>',
      uri: 'sip:bob@h;transport=tcp',
      params: 'tag=9',
    });
    expect(parseNameAddr('sip:bob@h;tag=9')).toEqual({ display: null, uri: 'sip:bob@h', params: 'tag=9' });
    expect(parseNameAddr('Bob <sip:bob@h>')?.display).toBe('Bob');
    expect(parseNameAddr('<sip:broken')).toBeNull();
  });

  it('maps SIP, SIPS and TEL URIs to identifiers', () => {
    expect(uriIdentities('sip:alice@Example.COM:5070;transport=tcp')).toEqual([
      { type: 'SIP_URI', value: 'sip:alice@example.com' },
    ]);
    expect(uriIdentities('sips:alice:secret@[2001:db8::1]:5061')).toEqual([
      { type: 'SIP_URI', value: 'sip:alice@[2001:db8::1]' },
    ]);
    expect(uriIdentities('sip:+39%2006-1234;npdi@ims.example;user=phone')).toEqual([
      { type: 'SIP_URI', value: 'sip:+39 06-1234@ims.example' },
      { type: 'E164', value: '+39061234' },
    ]);
    expect(uriIdentities('tel:+1-201-555-0123;phone-context=x')).toEqual([
      { type: 'TEL_URI', value: 'tel:+12015550123' },
      { type: 'E164', value: '+12015550123' },
    ]);
    expect(uriIdentities('tel:7042;phone-context=example.com')).toEqual([{ type: 'TEL_URI', value: 'tel:7042' }]);
    expect(uriIdentities('sip:example.com')).toEqual([]);
    expect(uriIdentities('mailto:a@b')).toEqual([]);
  });

  it('never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom('', 'sip:', 'tel:', '<sip:', '"'), (s, p) => {
        parseNameAddr(p + s);
        uriIdentities(p + s);
      }),
      { numRuns: 1000 },
    );
  });
});
