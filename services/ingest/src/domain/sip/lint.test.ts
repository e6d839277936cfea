import { describe, expect, it } from 'vitest';
import { collector } from '../../testing/decoder-kit.ts';
import { request } from '../../testing/sip-messages.ts';
import { sipDatagramHandler } from './decoder.ts';

const network = { transport: 'udp', srcAddress: '10.0.0.1', srcPort: 5060, dstAddress: '10.0.0.2', dstPort: 5060 };

function datagram(text: string) {
  const sink = collector();
  sipDatagramHandler(sink)({ tsMicros: 1, network, payload: Buffer.from(text, 'utf8') });
  return sink;
}

const head = (version = '2.0') =>
  `OPTIONS sip:bob@example.net SIP/${version}\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-1\r\n` +
  'From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.net>\r\nCSeq: 1 OPTIONS\r\n';

describe('SIP over UDP: what the TCP framer refuses is flagged on the event, which is still delivered', () => {
  it.each([
    [
      'Content-Length beyond the datagram',
      `${head()}Call-ID: c1\r\nContent-Length: 500\r\n\r\nv=0\r\n`,
      'ING_ERR_SIP_CL_BEYOND_DATAGRAM',
    ],
    ['negative Content-Length', `${head()}Call-ID: c1\r\nContent-Length: -4\r\n\r\n`, 'ING_ERR_SIP_CL_INVALID'],
    ['repeated Content-Length', `${head()}Call-ID: c1\r\nl: 0\r\nContent-Length: 0\r\n\r\n`, 'ING_ERR_SIP_CL_REPEATED'],
    ['no blank line after the headers', `${head()}Call-ID: c1\r\nContent-Length: 0\r\n`, 'ING_ERR_SIP_NO_BLANK_LINE'],
    ['SIP version 3.0', `${head('3.0')}Call-ID: c1\r\nContent-Length: 0\r\n\r\n`, 'ING_ERR_SIP_VERSION'],
    ['no Call-ID', `${head()}Content-Length: 0\r\n\r\n`, 'ING_ERR_SIP_CALL_ID_MISSING'],
    ['repeated Call-ID', `${head()}Call-ID: c1\r\ni: c2\r\nContent-Length: 0\r\n\r\n`, 'ING_ERR_SIP_CALL_ID_REPEATED'],
  ])('%s', (_what, text, code) => {
    const { events, problems } = datagram(text);
    expect(problems).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]?.action).toBe('sip.options');
    expect(events[0]?.attributes?.problems).toBe(code);
  });

  it('lists several problems of one message and flags nothing on a clean one', () => {
    const { events } = datagram(`${head('1.0')}Content-Length: 9\r\nContent-Length: 9\r\n`);
    expect(events[0]?.attributes?.problems?.split(' ').sort()).toEqual([
      'ING_ERR_SIP_CALL_ID_MISSING',
      'ING_ERR_SIP_CL_BEYOND_DATAGRAM',
      'ING_ERR_SIP_CL_REPEATED',
      'ING_ERR_SIP_NO_BLANK_LINE',
      'ING_ERR_SIP_VERSION',
    ]);
    const clean = collector();
    sipDatagramHandler(clean)({ tsMicros: 1, network, payload: request('BYE') });
    expect(clean.events[0]?.attributes?.problems).toBeUndefined();
  });
});
