import { describe, expect, it } from 'vitest';
import {
  luhnCheckDigit,
  MIN_INCOMPLETE_NUMBER_DIGITS,
  normalizeE164,
  normalizeImei,
  normalizeIncompleteNumber,
  normalizeTarget,
  partyKeys,
  targetIndexEntry,
} from './normalize.ts';

const IT = { defaultCountryCode: '39' };
const val = (r: { ok: boolean; value?: string; code?: string }) => (r.ok ? r.value : r.code);

describe('E.164', () => {
  it('reads international, 00 and national forms', () => {
    expect(val(normalizeE164('+39 06 1234-5678'))).toBe('+390612345678');
    expect(val(normalizeE164('0039 (06) 12345678'))).toBe('+390612345678');
    expect(val(normalizeE164('06 12345678', IT))).toBe('+390612345678');
    expect(val(normalizeE164('333.123.4567', IT))).toBe('+393331234567');
    expect(val(normalizeE164('030 1234567', { defaultCountryCode: '49', nationalTrunkPrefix: '0' }))).toBe(
      '+49301234567',
    );
  });
  it("reads national numbers with the country's own trunk and international prefixes", () => {
    const cc = (defaultCountryCode: string) => ({ defaultCountryCode });
    expect(val(normalizeE164('030 1234567', cc('49')))).toBe('+49301234567'); // DE trunk 0, no setting needed
    expect(val(normalizeE164('020 7946 0000', cc('44')))).toBe('+442079460000');
    expect(val(normalizeE164('8 916 123-45-67', cc('7')))).toBe('+79161234567'); // RU trunk 8
    expect(val(normalizeE164('1 (212) 555-0100', cc('1')))).toBe('+12125550100'); // NANP trunk 1
    expect(val(normalizeE164('011 44 20 7946 0000', cc('1')))).toBe('+442079460000'); // NANP international prefix
    expect(val(normalizeE164('0612345678', cc('39')))).toBe('+390612345678'); // Italy keeps its 0
    expect(val(normalizeE164('0612345678', cc('999')))).toBe('IDN_ERR_NO_COUNTRY_CODE');
  });
  it('refuses bad numbers with a reason', () => {
    expect(val(normalizeE164('0612345678'))).toBe('IDN_ERR_NO_COUNTRY_CODE');
    expect(val(normalizeE164('+39 06 ABC'))).toBe('IDN_ERR_E164');
    expect(val(normalizeE164('+3906123456789012'))).toBe('IDN_ERR_E164'); // 16 digits
    expect(val(normalizeE164('+0391234'))).toBe('IDN_ERR_E164');
  });
});

describe('IMSI / IMEI', () => {
  it('IMSI has 14-15 digits', () => {
    expect(val(normalizeTarget('IMSI', '222 01 0123456789'))).toBe('222010123456789');
    expect(val(normalizeTarget('IMSI', '2220101234567'))).toBe('IDN_ERR_IMSI');
  });
  it('IMEI reduces to 14 digits and verifies the check digit', () => {
    const base = '49015420323751';
    const cd = luhnCheckDigit(base);
    expect(cd).toBe(8); // the well-known example IMEI 490154203237518
    expect(val(normalizeImei(`${base}${cd}`))).toBe(base);
    expect(val(normalizeImei(`${base}${(cd + 1) % 10}`))).toBe('IDN_ERR_IMEI_CHECK_DIGIT');
    expect(val(normalizeImei(`${base}07`))).toBe(base); // IMEISV
    expect(val(normalizeImei('49-015420-323751'))).toBe(base);
    expect(val(normalizeImei('1234'))).toBe('IDN_ERR_IMEI');
  });
});

describe('SIP and TEL URIs', () => {
  it('canonicalises scheme, host, port and parameters, keeps user case', () => {
    expect(val(normalizeTarget('SIP_URI', '"Alice" <SIPS:Alice@Example.COM:5061;transport=tls?subject=x>'))).toBe(
      'sip:Alice@example.com',
    );
    expect(val(normalizeTarget('SIP_URI', 'sip:al%69ce:secret@[2001:DB8::0:1]'))).toBe('sip:alice@[2001:db8::1]');
  });
  it('turns telephone-subscriber users into E.164', () => {
    expect(val(normalizeTarget('SIP_URI', 'sip:+39-06-1234567@ims.example.it;user=phone'))).toBe(
      'sip:+39061234567@ims.example.it',
    );
    expect(val(normalizeTarget('SIP_URI', 'sip:061234567@ims.example.it;user=phone', IT))).toBe(
      'sip:+39061234567@ims.example.it',
    );
  });
  it('refuses URIs without user or with a bad host', () => {
    // A '?' in the user part is allowed (RFC 3261 §25.1); headers come after the host.
    expect(val(normalizeTarget('SIP_URI', 'sip:who?me@example.com?Subject=x@y'))).toBe('sip:who?me@example.com');
    // An IPv6 host without brackets keeps its last group.
    expect(val(normalizeTarget('SIP_URI', 'sip:alice@2001:db8::0:1'))).toBe('sip:alice@[2001:db8::1]');
    expect(val(normalizeTarget('SIP_URI', 'sip:example.com'))).toBe('IDN_ERR_SIP_URI');
    expect(val(normalizeTarget('SIP_URI', 'http://a@b'))).toBe('IDN_ERR_SIP_URI');
    expect(val(normalizeTarget('SIP_URI', 'sip:a@bad_host'))).toBe('IDN_ERR_SIP_URI');
  });
  it('TEL URI becomes tel:+E.164 and shares the E.164 key', () => {
    expect(val(normalizeTarget('TEL_URI', 'tel:+39-06-1234567;ext=1'))).toBe('tel:+39061234567');
    expect(val(normalizeTarget('TEL_URI', 'tel:1234567;phone-context=+39-06'))).toBe('tel:+39061234567');
    expect(targetIndexEntry('TEL_URI', 'tel:+39061234567')).toEqual({ kind: 'exact', key: 'e164|+39061234567' });
    expect(val(normalizeTarget('TEL_URI', 'sip:1@a'))).toBe('IDN_ERR_TEL_URI');
  });
});

describe('mail', () => {
  it('lower-cases both parts of addresses and account names', () => {
    expect(val(normalizeTarget('EMAIL', 'Bob <Bob.Smith@Mail.Example.ORG>'))).toBe('bob.smith@mail.example.org');
    expect(val(normalizeTarget('EMAIL', 'mailto:x@y.it'))).toBe('x@y.it');
    expect(val(normalizeTarget('EMAIL', 'anna@Città.it'))).toBe('anna@xn--citt-3na.it');
    expect(val(normalizeTarget('EMAIL', 'anna@xn--citt-3na.it'))).toBe('anna@xn--citt-3na.it');
    expect(val(normalizeTarget('MAIL_ACCOUNT', 'JDoe'))).toBe('jdoe');
    expect(val(normalizeTarget('EMAIL', 'no-at-sign'))).toBe('IDN_ERR_EMAIL');
    expect(val(normalizeTarget('MAIL_ACCOUNT', 'two words'))).toBe('IDN_ERR_MAIL_ACCOUNT');
  });
  it('an account written as an address shares the e-mail key', () => {
    expect(targetIndexEntry('MAIL_ACCOUNT', 'a@b.it')).toEqual(targetIndexEntry('EMAIL', 'a@b.it'));
    expect(targetIndexEntry('MAIL_ACCOUNT', 'a')).toEqual({ kind: 'exact', key: 'acct|a' });
  });
});

describe('IP targets and provider accounts', () => {
  it('normalises addresses and prefixes', () => {
    expect(val(normalizeTarget('IPV4', ' 10.1.2.3/16 '))).toBe('10.1.0.0/16');
    expect(val(normalizeTarget('IPV6', '2001:DB8:0:0::1'))).toBe('2001:db8::1');
    expect(val(normalizeTarget('IPV6', '10.0.0.1'))).toBe('IDN_ERR_IPV6');
    expect(val(normalizeTarget('IPV6', '::ffff:10.0.0.1'))).toBe('IDN_ERR_IPV6');
    expect(targetIndexEntry('IPV4', '10.1.0.0/16')?.kind).toBe('prefix');
    expect(targetIndexEntry('IPV4', '10.1.0.1')).toEqual({ kind: 'exact', key: 'ip|10.1.0.1' });
  });
  it('keeps provider account case and refuses control characters', () => {
    expect(val(normalizeTarget('PROVIDER_ACCOUNT', ' Cust-42 '))).toBe('Cust-42');
    expect(val(normalizeTarget('PROVIDER_ACCOUNT', 'a\u0001b'))).toBe('IDN_ERR_PROVIDER_ACCOUNT');
    expect(val(normalizeTarget('PROVIDER_ACCOUNT', '   '))).toBe('IDN_ERR_EMPTY');
  });

  it('SIP instance IDs: the URN of RFC 5626 +sip.instance, case folded where the RFCs say case does not matter', () => {
    const uuid = 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6';
    expect(val(normalizeTarget('SIP_INSTANCE', '"<URN:UUID:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6>"'))).toBe(uuid);
    expect(val(normalizeTarget('SIP_INSTANCE', uuid))).toBe(uuid);
    expect(val(normalizeTarget('SIP_INSTANCE', '<urn:GSMA:imei:35209900-176148-1>'))).toBe(
      'urn:gsma:imei:35209900-176148-1',
    );
    expect(val(normalizeTarget('SIP_INSTANCE', 'urn:uuid:not-a-uuid'))).toBe('IDN_ERR_SIP_INSTANCE');
    expect(val(normalizeTarget('SIP_INSTANCE', 'sip:alice@example.com'))).toBe('IDN_ERR_SIP_INSTANCE');
    expect(val(normalizeTarget('SIP_INSTANCE', 'urn:uuid:<x>'))).toBe('IDN_ERR_SIP_INSTANCE');
    const keys = partyKeys('SIP_INSTANCE', '"<urn:uuid:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6>"');
    expect(keys?.keys).toEqual([`sipinst|${uuid}`]);
    expect(targetIndexEntry('SIP_INSTANCE', uuid)).toEqual({ kind: 'exact', key: `sipinst|${uuid}` });
  });
});

describe('party keys', () => {
  it('a phone SIP URI also yields the E.164 key', () => {
    expect(partyKeys('SIP_URI', '<sip:+39-06-1234567@ims.it;user=phone>;tag=1')?.keys).toEqual([
      'sip|sip:+39061234567@ims.it',
      'e164|+39061234567',
    ]);
  });
  it('IP parties carry the address for prefix lookup; unreadable values give null', () => {
    const k = partyKeys('IPV6', '::ffff:10.0.0.9');
    expect(k?.keys).toEqual(['ip|10.0.0.9']);
    expect(k?.ip?.family).toBe(4);
    expect(partyKeys('IMSI', 'x')).toBeNull();
    expect(partyKeys('IPV4', '')).toBeNull();
  });
});

describe('incomplete numbers (seed 001 Art. 9 c.1 e)', () => {
  it('reads a national prefix with the numbering plan, like a full number', () => {
    expect(val(normalizeIncompleteNumber('06 1234 5', IT))).toBe('+390612345');
    expect(val(normalizeIncompleteNumber('030 12345', { defaultCountryCode: '49' }))).toBe('+493012345');
    expect(val(normalizeIncompleteNumber('0039 333 123', IT))).toBe('+39333123');
  });
  it('refuses a prefix shorter than the minimum', () => {
    expect(MIN_INCOMPLETE_NUMBER_DIGITS).toBe(8);
    const short = normalizeIncompleteNumber('06 123', IT); // +3906123: 7 digits
    expect(short.ok).toBe(false);
    expect(short.ok ? '' : short.reason).toMatch(/at least 8 digits/);
    expect(val(normalizeIncompleteNumber('+3906a', IT))).toBe('IDN_ERR_E164');
  });
  it('is indexed as a number prefix only when E.164, flagged and long enough', () => {
    expect(targetIndexEntry('E164', '+390612345', true)).toEqual({ kind: 'numberPrefix', number: '+390612345' });
    expect(targetIndexEntry('E164', '+390612345')).toEqual({ kind: 'exact', key: 'e164|+390612345' });
    expect(targetIndexEntry('E164', '+3906123', true)).toBeNull();
    expect(targetIndexEntry('TEL_URI', 'tel:+390612345', true)).toBeNull();
    expect(targetIndexEntry('IMSI', '222010123456789', true)).toBeNull();
  });
});
