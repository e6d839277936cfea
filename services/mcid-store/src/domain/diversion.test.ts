import { describe, expect, it } from 'vitest';
import { historyInfoFromDiversion, parseDiversion } from './diversion.ts';
import { parseHistoryInfo } from './sip.ts';

const RURI = 'sip:+15553330000@ims.example.net;user=phone';

describe('Diversion → History-Info (RFC 5806 → RFC 7044, RFC 7544 mapping)', () => {
  it('one diversion: the diverting party at index 1, the Request-URI at 1.1 with the RFC 4458 cause', () => {
    const hi = historyInfoFromDiversion(['<sip:+15552220000@ims.example.net;user=phone>;reason=unconditional'], RURI);
    expect(hi).toEqual([
      '<sip:+15552220000@ims.example.net;user=phone?Reason=SIP%3Bcause%3D302>;index=1',
      '<sip:+15553330000@ims.example.net;user=phone;cause=302>;index=1.1;mp=1',
    ]);
    const parsed = parseHistoryInfo(hi);
    expect(parsed.map((e) => [e.index, e.cause, e.reasonCause])).toEqual([
      ['1', null, 302],
      ['1.1', 302, null],
    ]);
  });

  it('several header lines and comma lists: top-most is the latest diversion, History-Info is oldest first', () => {
    const hi = historyInfoFromDiversion(
      [
        '<sip:b@example.com>;reason=no-answer',
        '<sip:a@example.com>;reason=user-busy, <tel:+15550009999>;reason=deflection',
      ],
      RURI,
    );
    const parsed = parseHistoryInfo(hi);
    expect(parsed.map((e) => [e.uri.split(/[;?]/)[0], e.index, e.cause, e.reasonCause])).toEqual([
      ['tel:+15550009999', '1', null, 480],
      ['sip:a@example.com', '1.1', 480, 486],
      ['sip:b@example.com', '1.1.1', 486, 408],
      ['sip:+15553330000@ims.example.net', '1.1.1.1', 408, null],
    ]);
    expect(hi[3]).toContain(';mp=1.1.1');
  });

  it('a counter of n stands for n diversions (capped), an unknown or missing reason maps to 404', () => {
    const hi = historyInfoFromDiversion(['<sip:a@example.com>;counter=3;reason=whatever'], RURI);
    expect(hi).toHaveLength(4);
    expect(parseHistoryInfo(hi).map((e) => e.cause)).toEqual([null, 404, 404, 404]);
    expect(historyInfoFromDiversion(['<sip:a@example.com>;counter=999999'], RURI)).toHaveLength(17);
    expect(parseDiversion(['<sip:a@example.com>;counter=0'])[0]!.counter).toBe(1);
  });

  it('privacy=full hides the diverting party with Privacy=history; reason and privacy are case-insensitive', () => {
    const hi = historyInfoFromDiversion(['"A" <sip:a@example.com>;Reason=User-Busy;privacy=FULL;screen=no'], RURI);
    expect(hi[0]).toBe('<sip:a@example.com?Reason=SIP%3Bcause%3D486&Privacy=history>;index=1');
    expect(parseHistoryInfo(hi)[1]!.cause).toBe(486);
  });

  it('no usable Diversion entry: no History-Info', () => {
    expect(historyInfoFromDiversion([], RURI)).toEqual([]);
    expect(historyInfoFromDiversion(['garbage;reason=unconditional'], RURI)).toEqual([]);
  });
});
