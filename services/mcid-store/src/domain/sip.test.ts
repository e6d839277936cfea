import fc from 'fast-check';
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

// The former implementations (string built per character, regex splits), kept as oracles for
// the index-based ones that replaced them for speed.
function splitHeaderListBefore(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0 && !quoted) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function identityKeyBefore(value: string): string {
  const lt = value.indexOf('<');
  const u =
    lt >= 0
      ? value.slice(lt + 1, value.indexOf('>', lt) < 0 ? undefined : value.indexOf('>', lt)).trim()
      : (value.trim().split(/\s*;\s*/)[0] ?? '').trim();
  const m = /^(sips?|tel):([^?]*)/i.exec(u);
  if (!m) return '';
  const decode = (s: string) => {
    if (!s.includes('%')) return s;
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'tel') {
    const num = decode(rest.split(';')[0] ?? '').replace(/[-.()\s]/g, '');
    return num ? `tel:${num}` : '';
  }
  const at = rest.indexOf('@');
  const user = at >= 0 ? decode((rest.slice(0, at).split(';')[0] ?? '').split(':')[0] ?? '') : '';
  const host = (at >= 0 ? rest.slice(at + 1) : rest).split(/[;:]/)[0]!.toLowerCase();
  const digits = user.replace(/[-.()\s]/g, '');
  if (/^\+?\d{3,}$/.test(digits)) return `tel:${digits}`;
  if (!host) return '';
  return user ? `sip:${user}@${host}` : `sip:${host}`;
}

describe('SIP helpers, fast paths', () => {
  // Strings made mostly of the characters the parsers look at.
  const sipish = (chars: string[]) => fc.array(fc.constantFrom(...chars), { maxLength: 60 }).map((a) => a.join(''));

  it('splitHeaderList splits any text as the per-character version did', () => {
    const text = fc.oneof(sipish(['a', ',', '<', '>', '"', '\\', ' ', '\t', ';', '=']), fc.string());
    fc.assert(
      fc.property(text, (v) => {
        expect(splitHeaderList(v)).toEqual(splitHeaderListBefore(v));
      }),
      { numRuns: 3000 },
    );
  });

  it('identityKey keys any text as the regex-split version did', () => {
    const parts = [
      'sip:',
      'SIPS:',
      'tel:',
      '+',
      '1',
      '23',
      '-',
      '.',
      '(',
      ')',
      ' ',
      '@',
      'Host.EX',
      ';',
      ':',
      '=',
      '?',
      '%2A',
      '%',
      '<',
      '>',
      '"',
      'user=phone',
      ',',
      '\t',
    ];
    const text = fc.oneof(sipish(parts), fc.string());
    fc.assert(
      fc.property(text, (v) => {
        expect(identityKey(v)).toBe(identityKeyBefore(v));
        expect(identityKey(`<${v}>;tag=1`)).toBe(identityKeyBefore(`<${v}>;tag=1`));
      }),
      { numRuns: 3000 },
    );
  });

  it('identityKey answers the same when asked again, also past its memory bound', () => {
    const values = Array.from({ length: 5000 }, (_, i) => (i % 2 ? `<sip:+3906${i}@x;user=phone>` : `sip:U${i}@H.x`));
    for (let round = 0; round < 2; round++) for (const v of values) expect(identityKey(v)).toBe(identityKeyBefore(v));
  });

  it('a SipEvent answers a header the same each time, from one read', () => {
    const sip = new SipEvent(invite({ callId: 'c1', at: 1, requestUri: 'sip:+123@x', pai: ['<sip:+1@x>, <tel:+1>'] }));
    const first = sip.headers('P-Asserted-Identity');
    expect(first).toEqual(['<sip:+1@x>', '<tel:+1>']);
    expect(sip.headers('p-asserted-identity')).toBe(first);
  });
});

const COMPACT_BEFORE: Record<string, string> = {
  f: 'from',
  t: 'to',
  m: 'contact',
  i: 'call-id',
  b: 'referred-by',
  l: 'content-length',
  c: 'content-type',
};
const [CR, SP, HTAB] = [13, 32, 9];
const COMPACT = COMPACT_BEFORE;

function parseSipTextBefore(text: string) {
  // Plain string scans instead of regex splits and replaces: this runs for every SIP event.
  const sep = text.search(/\r?\n\r?\n/);
  const head = sep < 0 ? text : text.slice(0, sep);
  let bodyAt = sep;
  if (sep >= 0) {
    if (text.charCodeAt(bodyAt) === CR) bodyAt++;
    bodyAt++;
    if (text.charCodeAt(bodyAt) === CR) bodyAt++;
    bodyAt++;
  }
  const body = sep < 0 ? '' : text.slice(bodyAt);
  const lines = head.split('\n');
  const headers = new Map<string, string[]>();
  let start = '';
  let last: string[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    // A line followed by \n lost only the \n: drop the \r of its \r\n.
    if (i < lines.length - 1 && line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
    if (i === 0) {
      start = line;
      continue;
    }
    const first = line.charCodeAt(0);
    if ((first === SP || first === HTAB) && last !== null && last.length > 0) {
      // Header folding (RFC 3261 §7.3.1): continuation of the previous value.
      last[last.length - 1] = `${last[last.length - 1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rawName = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[rawName] ?? rawName;
    const value = line.slice(colon + 1).trim();
    let list = headers.get(name);
    if (list === undefined) {
      list = [];
      headers.set(name, list);
    }
    list.push(value);
    last = list;
  }
  const resp = /^SIP\/2\.0\s+(\d{3})/i.exec(start);
  if (resp) {
    return { kind: 'response', method: '', status: Number(resp[1]), requestUri: '', headers, body };
  }
  const req = /^([A-Z]+)\s+(\S+)\s+SIP\/2\.0/i.exec(start);
  if (!req) return null;
  return { kind: 'request', method: req[1]!.toUpperCase(), status: 0, requestUri: req[2]!, headers, body };
}

describe('parseSipText, by index', () => {
  it('reads any text as the split-by-lines version did', () => {
    const parts = [
      '\r\n',
      '\n',
      '\r',
      ' ',
      '\t',
      ':',
      'Call-ID',
      'i',
      'TO',
      'Contact',
      'x',
      '<sip:a@b>',
      ',',
      'SIP/2.0 180 Ringing',
      'INVITE sip:a@b SIP/2.0',
      'v=0',
      // start lines the in-place reading takes, and near misses left to the regexes
      'SIP/2.0 ',
      'sip/2.0 200 OK',
      '42',
      '7',
      'invite ',
      'ACK',
      'SIP/2.0',
      '\u00a0',
      'I\u0130',
      'sip:x@y',
      '\r\n\r\n',
    ];
    const text = fc.oneof(
      fc.array(fc.constantFrom(...parts), { maxLength: 40 }).map((a) => a.join('')),
      fc.string(),
    );
    fc.assert(
      fc.property(text, (t) => {
        const got = parseSipText(t);
        const want = parseSipTextBefore(t);
        expect(got === null ? null : { ...got, headers: [...got.headers] }).toEqual(
          want === null ? null : { ...want, headers: [...want.headers] },
        );
      }),
      { numRuns: 5000 },
    );
  });
});

describe('SipEvent, headers read when first asked for', () => {
  const parts = [
    '\r\n',
    '\n',
    '\r',
    ' ',
    '\t',
    ':',
    'Call-ID',
    'call-id',
    ' Call-ID ',
    'i',
    'I',
    'CSeq',
    'cseq',
    '1 INVITE',
    'Via',
    'x',
    'SIP/2.0 180 Ringing',
    'INVITE sip:a@b SIP/2.0',
    'ACK sip:a@b SIP/2.0',
    '\u212a',
  ];
  const text = fc.oneof(
    fc.array(fc.constantFrom(...parts), { maxLength: 40 }).map((a) => a.join('')),
    fc.string(),
  );
  const answers = (s: SipEvent) => [
    s.header('Call-ID'),
    s.header('cseq'),
    s.callId,
    s.cseqMethod,
    s.method,
    s.isResponse,
    s.status,
    s.requestUri,
    s.body,
  ];

  it('finds Call-ID and CSeq in place as reading every header does, for any text', () => {
    fc.assert(
      fc.property(text, fc.boolean(), (t, withAttributes) => {
        const e = invite({ callId: 'attr-id', at: 1, requestUri: 'sip:a@b' });
        e.content = Buffer.from(t, 'utf8');
        if (!withAttributes) e.attributes = {};
        const lazy = new SipEvent(e);
        const full = new SipEvent(e);
        full.headers('via'); // every header read first
        expect(answers(lazy)).toEqual(answers(full));
        const before = parseSipTextBefore(e.content.toString('utf8'));
        if (before !== null) {
          expect(lazy.header('call-id')).toBe(before.headers.get('call-id')?.[0] ?? e.attributes['call-id'] ?? null);
          expect(lazy.header('cseq')).toBe(before.headers.get('cseq')?.[0] ?? e.attributes.cseq ?? null);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('reads a folded Call-ID whole, and the first of two', () => {
    const e = invite({ callId: 'attr-id', at: 1, requestUri: 'sip:a@b' });
    e.content = Buffer.from(
      'SIP/2.0 200 OK\r\nVia: x\r\ni: abc\r\n  def\r\nCall-ID: second\r\nCSeq: 7\r\n\tINFO\r\n\r\n',
    );
    const s = new SipEvent(e);
    expect(s.callId).toBe('abc def');
    expect(s.cseqMethod).toBe('INFO');
    expect(s.headers('call-id')).toEqual(['abc def', 'second']);
    // Names with spaces around (a first header line may start with one) and compact forms.
    e.content = Buffer.from('SIP/2.0 200 OK\r\n Call-ID : abc\r\nCSeq\t: 1 INVITE\r\n\r\n');
    expect([new SipEvent(e).callId, new SipEvent(e).cseqMethod]).toEqual(['abc', 'INVITE']);
    e.content = Buffer.from('SIP/2.0 200 OK\r\nI: xyz\r\nCSEQ: 1 BYE\r\n\r\n');
    expect([new SipEvent(e).callId, new SipEvent(e).cseqMethod]).toEqual(['xyz', 'BYE']);
  });
});
