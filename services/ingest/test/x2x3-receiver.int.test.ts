// X2/X3 over real sockets: a POI-like client sends PDUs to our receiver over TCP (captured by
// tcpdump and read back by tshark's 5gli dissector) and over mutually authenticated TLS.
// The reference files built for VALIDATING.md must decode and re-encode to the same octets.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createX2X3Receiver } from '../src/adapters/x2x3-receiver.ts';
import { pduToEvent } from '../src/domain/x2x3/event.ts';
import { X2X3Framer } from '../src/domain/x2x3/framer.ts';
import {
  ATTR,
  attr,
  decodePdu,
  encodePdu,
  keepalive,
  PDU_TYPE,
  type X2X3Attributes,
  type X2X3Pdu,
} from '../src/domain/x2x3/pdu.ts';
import { startTcpdump } from './mail-kit.ts';

// Our own example PDUs, kept here so the test needs nothing beside the clone (the same bytes as
// the steering repo's spec/examples, made by its mk_x2x3.py generator for VALIDATING.md).
const EXAMPLES: Record<string, string> = {
  x2_sip:
    'AAUAAQAAAHYAAADmAAkAAystOkxeb0objJ0OHyo7TF0AAAAAAAAAAQAIAAQAAAAqAAkACGWSqUAHVNTAAAoABMAAAgoACwAExjNkBwAOAAITxAAPAAITxAAQAAERABEAFXNpcDphbGljZUBleGFtcGxlLmNvbUlOVklURSBzaXA6Ym9iQGV4YW1wbGUuY29tIFNJUC8yLjANClZpYTogU0lQLzIuMC9VRFAgMTkyLjAuMi4xMDo1MDYwO2JyYW5jaD16OWhHNGJLMQ0KRnJvbTogPHNpcDphbGljZUBleGFtcGxlLmNvbT47dGFnPTENClRvOiA8c2lwOmJvYkBleGFtcGxlLmNvbT4NCkNhbGwtSUQ6IGFiY0AxOTIuMC4yLjEwDQpDU2VxOiAxIElOVklURQ0KTWF4LUZvcndhcmRzOiA3MA0KQ29udGVudC1MZW5ndGg6IDANCg0K',
  x3_ipv4:
    'AAUAAgAAADwAAAAcAAUAAystOkxeb0objJ0OHyo7TF0AAAAAAAAAAQAIAAQAAAAqAAkACGWSqUAHVNTARQAAHAAAQABAEQAACgAAAQoAAAKk1QA1AAgAAA==',
  keepalive: 'AAUAAwAAACgAAAAAAAAAACstOkxeb0objJ0OHyo7TF0AAAAAAAAAAQ==',
};

const XID = '2b2d3a4c-5e6f-4a1b-8c9d-0e1f2a3b4c5d';
const SIP = Buffer.from(
  'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK77\r\nFrom: <sip:alice@example.com>;tag=9\r\nTo: <sip:bob@example.com>\r\nCall-ID: li-test-1@192.0.2.10\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
);

function x2(seq: number, payload = SIP): Buffer {
  return encodePdu({
    pduType: PDU_TYPE.X2,
    payloadFormat: 9,
    payloadDirection: 3,
    xid: XID,
    correlationId: 0x1122334455667788n,
    attributes: [
      attr.sequenceNumber(seq),
      attr.timestamp(1795298841, 250_000_000),
      attr.text(ATTR.NFID, 'sbc-1'),
      attr.text(ATTR.IPID, 'ip-a'),
      attr.ipv4(ATTR.SOURCE_IPV4, '192.0.2.10'),
      attr.ipv4(ATTR.DESTINATION_IPV4, '198.51.100.7'),
      attr.u16(ATTR.SOURCE_PORT, 5060),
      attr.u16(ATTR.DESTINATION_PORT, 5062),
      attr.u8(ATTR.IP_PROTOCOL, 17),
      attr.text(ATTR.MATCHED_TARGET, '<sipURI>sip:alice@example.com</sipURI>'),
    ],
    payload,
  });
}

function x3(seq: number): Buffer {
  const ip = Buffer.from('4500001c00004000401100000a0000010a000002a4d5003500080000', 'hex');
  return encodePdu({
    pduType: PDU_TYPE.X3,
    payloadFormat: 5,
    payloadDirection: 2,
    xid: XID,
    correlationId: 0x1122334455667788n,
    attributes: [attr.sequenceNumber(seq)],
    payload: ip,
  });
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'li-x2x3-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

/** One PDU per packet in an exported-PDU capture for the li5g dissector (VALIDATING.md §2). */
function li5gPcap(name: string, pdus: Buffer[]): string {
  const hex = join(dir, `${name}.hex`);
  const pcap = join(dir, `${name}.pcap`);
  const lines: string[] = [];
  // text2pcap starts a new packet whenever the offset goes back to 0.
  for (const pdu of pdus) {
    for (let off = 0; off < pdu.length; off += 16) {
      lines.push(
        `${off.toString(16).padStart(6, '0')} ${[...pdu.subarray(off, off + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`,
      );
    }
  }
  writeFileSync(hex, `${lines.join('\n')}\n`);
  execFileSync('text2pcap', ['-q', '-P', 'li5g', hex, pcap], { stdio: 'ignore' });
  return pcap;
}

// tshark 4.0 shows NFID/IPID as bytes.
const hex = (s: string) => Buffer.from(s).toString('hex');

const FIELDS = [
  'li5g.ver',
  'li5g.type',
  'li5g.hl',
  'li5g.pl',
  'li5g.pf',
  'li5g.pd',
  'li5g.xid',
  'li5g.cid',
  'li5g.sq',
  'li5g.srcip',
  'li5g.dstip',
  'li5g.srcport',
  'li5g.dstport',
  'li5g.ipproto',
  'li5g.nfid',
  'li5g.ipid',
];

describe('X2/X3 against tshark and the reference files', () => {
  it('reference PDUs decode and re-encode to identical octets', () => {
    for (const [name, b64] of Object.entries(EXAMPLES)) {
      const bytes = Buffer.from(b64, 'base64');
      const d = decodePdu(bytes);
      expect(d.ok, name).toBe(true);
      if (!d.ok) continue;
      expect(encodePdu(d.pdu), name).toEqual(bytes);
      expect(d.pdu.xid).toBe(XID);
    }
    const sip = decodePdu(Buffer.from(EXAMPLES.x2_sip as string, 'base64'));
    expect(sip.ok && sip.attrs).toMatchObject({
      sequenceNumber: 42,
      sourceAddress: '192.0.2.10',
      destinationAddress: '198.51.100.7',
      ipProtocol: 17,
    });
  });

  it('tshark 5gli reads our encoded X2 and X3 with every field as meant and nothing malformed', () => {
    const cases: Array<[string, Buffer, string[]]> = [
      [
        'x2',
        x2(7),
        [
          '5',
          '1',
          '152',
          `${SIP.length}`,
          '9',
          '3',
          XID,
          '1122334455667788',
          '7',
          '192.0.2.10',
          '198.51.100.7',
          '5060',
          '5062',
          '17',
          hex('sbc-1'),
          hex('ip-a'),
        ],
      ],
      ['x3', x3(8), ['5', '2', '48', '28', '5', '2', XID, '1122334455667788', '8', '', '', '', '', '', '', '']],
      [
        'ka',
        keepalive(9),
        [
          '5',
          '3',
          '48',
          '0',
          '0',
          '0',
          '00000000-0000-0000-0000-000000000000',
          '0000000000000000',
          '9',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
        ],
      ],
    ];
    const pcap = li5gPcap(
      'encoded',
      cases.map(([, pdu]) => pdu),
    );
    const out = tshark([
      '-r',
      pcap,
      '-T',
      'fields',
      '-E',
      'occurrence=f',
      ...[...FIELDS, 'sip.Call-ID'].flatMap((f) => ['-e', f]),
    ]);
    const rows = out
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => l.split('\t'));
    cases.forEach(([name, , expected], i) => {
      expect(rows[i]?.slice(0, FIELDS.length), name).toEqual(expected);
    });
    // The SIP payload is handed to tshark's SIP dissector (payload format 9).
    expect(rows[0]?.[FIELDS.length]).toBe('li-test-1@192.0.2.10');
    expect(tshark(['-r', pcap, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"']).trim()).toBe('');
  });
});

interface Got {
  pdus: Array<{ pdu: X2X3Pdu; attrs: X2X3Attributes }>;
  problems: Array<{ code: string; fatal: boolean }>;
}

type ReceiverOptions = Parameters<typeof createX2X3Receiver>[0];

function receiverFor(got: Got, tlsOpts?: ReceiverOptions['tls'], more: Partial<ReceiverOptions> = {}) {
  return createX2X3Receiver({
    tls: tlsOpts,
    onPdu: (pdu, attrs) => got.pdus.push({ pdu, attrs }),
    onProblem: (p) => got.problems.push({ code: p.code, fatal: p.fatal }),
    ...more,
  });
}

function connected(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the socket closes; never rejects (a reset is a close too). Reads (and drops) unless told not to. */
function closedOf(s: net.Socket, read = true): Promise<void> {
  s.on('error', () => {});
  if (read) s.resume();
  return new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));
}

/** Reads keepalive acks the receiver writes back. */
function ackReader(socket: net.Socket): { acks: number[] } {
  const framer = new X2X3Framer();
  const acks: number[] = [];
  socket.on('data', (d: Buffer) => {
    for (const ev of framer.push(d))
      if (ev.kind === 'pdu' && ev.pdu.pduType === PDU_TYPE.KEEPALIVE_ACK) acks.push(ev.attrs.sequenceNumber ?? -1);
  });
  return { acks };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made once per run. */
let certsMade = false;
function certs(): (name: string) => Buffer {
  if (!certsMade) {
    const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=li-test-ca',
      '-days',
      '1',
    ]);
    for (const who of ['server', 'client']) {
      ssl([
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        `${who}.key`,
        '-out',
        `${who}.csr`,
        '-subj',
        `/CN=${who}`,
      ]);
      writeFileSync(
        join(dir, `${who}.ext`),
        who === 'server' ? 'subjectAltName=IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n',
      );
      ssl([
        'x509',
        '-req',
        '-in',
        `${who}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${who}.crt`,
        '-days',
        '1',
        '-extfile',
        `${who}.ext`,
      ]);
    }
    certsMade = true;
  }
  return (n: string) => readFileSync(join(dir, n));
}

describe('X2/X3 receiver', () => {
  it('over TCP: frames split PDUs, answers keepalives, skips a malformed PDU, closes on broken framing', async () => {
    const got: Got = { pdus: [], problems: [] };
    const rx = receiverFor(got);
    const port = await rx.listen(0, '127.0.0.1');
    const pcap = join(dir, 'tcp.pcap');
    const dump = await startTcpdump(pcap, `tcp port ${port}`);

    // Connection A: one PDU per segment, as tshark 4.0's 5gli dissector (no TCP reassembly) needs.
    const a = net.connect(port, '127.0.0.1');
    await new Promise((r) => a.once('connect', r));
    a.setNoDelay(true);
    const ackA = ackReader(a);
    for (const pdu of [x2(1), keepalive(50), x3(2)]) {
      a.write(pdu);
      await new Promise((r) => setTimeout(r, 60));
    }
    await until(() => got.pdus.length === 2 && ackA.acks.length === 1, 'connection A');
    const aPort = a.localPort as number;
    a.destroy();
    got.pdus.length = 0;

    // Connection B: the same kind of stream cut at awkward places.
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const { acks } = ackReader(sock);
    const badFormat = encodePdu({
      pduType: PDU_TYPE.X3,
      payloadFormat: 9,
      payloadDirection: 2,
      xid: XID,
      payload: Buffer.from('sip on x3'),
    });
    const stream = Buffer.concat([x2(1), keepalive(100), badFormat, x3(2), x2(3)]);
    // Cut at awkward places: inside the fixed header, inside a TLV, inside the payload.
    for (const [a, b] of [
      [0, 7],
      [7, 45],
      [45, 200],
      [200, stream.length],
    ] as const) {
      sock.write(stream.subarray(a, b));
      await new Promise((r) => setTimeout(r, 30));
    }
    await until(() => got.pdus.length === 3 && acks.length === 1, 'three PDUs and one ack');
    expect(got.pdus.map((p) => [p.pdu.pduType, p.attrs.sequenceNumber])).toEqual([
      [1, 1],
      [2, 2],
      [1, 3],
    ]);
    expect(acks).toEqual([100]);
    expect(got.problems).toEqual([{ code: 'ING_ERR_X2X3_PAYLOAD_FORMAT', fatal: false }]);
    const mapped = pduToEvent(got.pdus[0]!.pdu, got.pdus[0]!.attrs, (x) => (x === XID ? { taskId: 't-1' } : null), 0);
    expect(mapped.ok && mapped.event).toMatchObject({
      parties: [{ role: 'ACCOUNT', type: 'SIP_URI', value: 'sip:alice@example.com' }],
      network: { transport: 'udp', srcAddress: '192.0.2.10', dstPort: 5062 },
      content: SIP,
    });

    // A header length below 40 leaves no way to find the next PDU: the receiver closes.
    const closed = new Promise((r) => sock.once('close', r));
    const broken = Buffer.alloc(12);
    broken.writeUInt16BE(5, 0);
    broken.writeUInt32BE(8, 4);
    sock.write(broken);
    await closed;
    expect(got.problems.at(-1)).toEqual({ code: 'ING_ERR_X2X3_HEADER_LENGTH', fatal: true });
    await dump.stop();
    await rx.close();

    // tshark reads connection A from the wire: X2, keepalive, our ack (type 4, same seq), X3.
    const rows = tshark([
      '-r',
      pcap,
      '-d',
      `tcp.port==${port},5gli`,
      '-Y',
      `5gli && tcp.port==${aPort}`,
      '-T',
      'fields',
      '-E',
      'occurrence=f',
      '-e',
      'li5g.type',
      '-e',
      'li5g.sq',
    ])
      .trim()
      .split('\n');
    expect(rows).toEqual(['1\t1', '3\t50', '4\t50', '2\t2']);
    expect(
      tshark([
        '-r',
        pcap,
        '-d',
        `tcp.port==${port},5gli`,
        '-Y',
        `tcp.port==${aPort} && (_ws.malformed || _ws.expert.severity >= "warning")`,
      ]).trim(),
    ).toBe('');
  });

  it('over mutual TLS: accepts a client with a certificate from our CA, refuses one without', async () => {
    const file = certs();
    const got: Got = { pdus: [], problems: [] };
    const rx = receiverFor(got, { key: file('server.key'), cert: file('server.crt'), ca: file('ca.crt') });
    const port = await rx.listen(0, '127.0.0.1');

    const good = tls.connect({
      port,
      host: '127.0.0.1',
      ca: file('ca.crt'),
      key: file('client.key'),
      cert: file('client.crt'),
    });
    await new Promise((r, j) => {
      good.once('secureConnect', r);
      good.once('error', j);
    });
    const { acks } = ackReader(good);
    good.write(Buffer.concat([keepalive(5), x2(11)]));
    await until(() => got.pdus.length === 1 && acks.length === 1, 'PDU and ack over TLS');
    expect(acks).toEqual([5]);
    expect(got.pdus[0]?.pdu.payload).toEqual(SIP);
    good.destroy();

    const anonymous = tls.connect({ port, host: '127.0.0.1', ca: file('ca.crt') });
    const outcome = await new Promise<string>((resolve) => {
      anonymous.once('error', (e) => resolve(`error:${e.message}`));
      anonymous.once('close', () => resolve('closed'));
      anonymous.once('secureConnect', () => anonymous.write(x2(12)));
    });
    expect(outcome).not.toBe('');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.pdus).toHaveLength(1); // nothing accepted from the client without a certificate
    await rx.close();
  });
});

describe('X2/X3 receiver: a hostile peer hurts only itself', () => {
  it('refuses to start with TLS but no client CA, unless told to accept clients without a certificate', async () => {
    const file = certs();
    const got: Got = { pdus: [], problems: [] };
    expect(() => receiverFor(got, { key: file('server.key'), cert: file('server.crt') })).toThrow(
      /ING_ERR_X2X3_TLS_NO_CLIENT_CA/,
    );
    // Marked insecure on purpose: a client without a certificate is served.
    const rx = receiverFor(got, { key: file('server.key'), cert: file('server.crt'), allowNoClientCert: true });
    const port = await rx.listen(0, '127.0.0.1');
    const anonymous = tls.connect({ port, host: '127.0.0.1', ca: file('ca.crt') });
    await new Promise((r, j) => {
      anonymous.once('secureConnect', r);
      anonymous.once('error', j);
    });
    anonymous.write(x2(21));
    await until(() => got.pdus.length === 1, 'PDU from a client without a certificate');
    anonymous.destroy();
    await rx.close();
  });

  it('closes connections beyond the cap at accept and reports each; the open ones keep working', async () => {
    const got: Got = { pdus: [], problems: [] };
    const refused: string[] = [];
    const rx = receiverFor(got, undefined, {
      maxConnections: 2,
      onConnectionRefused: (peer) => refused.push(peer.address),
    });
    const port = await rx.listen(0, '127.0.0.1');
    const a = await connected(port);
    const b = await connected(port);
    await new Promise((r) => setTimeout(r, 50)); // both accepted by the server
    const extra = await Promise.all([connected(port), connected(port)]);
    await Promise.all(extra.map((e) => closedOf(e)));
    expect(refused).toEqual(['127.0.0.1', '127.0.0.1']);
    a.write(x2(1));
    b.write(x2(2));
    await until(() => got.pdus.length === 2, 'PDUs on the connections within the cap');
    // A closed connection frees its place.
    const aClosed = closedOf(a);
    a.destroy();
    await aClosed;
    await new Promise((r) => setTimeout(r, 50));
    const c = await connected(port);
    c.write(x2(3));
    await until(() => got.pdus.length === 3, 'PDU on a connection after one closed');
    b.destroy();
    c.destroy();
    await rx.close();
  });

  it('closes a connection silent past the idle timeout', async () => {
    const got: Got = { pdus: [], problems: [] };
    const rx = receiverFor(got, undefined, { idleTimeoutMs: 200 });
    const port = await rx.listen(0, '127.0.0.1');
    const s = await connected(port);
    s.write(keepalive(1));
    await closedOf(s);
    expect(got.problems).toEqual([{ code: 'ING_ERR_X2X3_IDLE', fatal: true }]);
    await rx.close();
  });

  it('closes a connection whose PDU header announces more than the maximum, without reading it', async () => {
    const got: Got = { pdus: [], problems: [] };
    const rx = receiverFor(got, undefined, { maxPduBytes: 4096 });
    const port = await rx.listen(0, '127.0.0.1');
    const s = await connected(port);
    const head = x3(1).subarray(0, 12);
    head.writeUInt32BE(1 << 30, 8); // payload length: 1 GiB
    s.write(head);
    await closedOf(s);
    expect(got.problems).toEqual([{ code: 'ING_ERR_X2X3_TOO_LARGE', fatal: true }]);
    await rx.close();
  });

  it('closes a peer that sends keepalives but never reads the answers, before they pile up', async () => {
    const got: Got = { pdus: [], problems: [] };
    let answered = 0;
    const bound = 64 * 1024;
    let rx: ReturnType<typeof receiverFor> | null = null;
    let maxQueued = 0;
    rx = receiverFor(got, undefined, {
      maxUnreadReplyBytes: bound,
      onKeepalive: () => {
        answered++;
      },
    });
    rx.server.on('connection', (sock: net.Socket) => {
      const t = setInterval(() => {
        maxQueued = Math.max(maxQueued, sock.writableLength);
      }, 5);
      sock.once('close', () => clearInterval(t));
    });
    const port = await rx.listen(0, '127.0.0.1');
    const s = await connected(port);
    s.pause(); // never reads: the answers fill the kernel buffers, then our queue
    const closed = closedOf(s, false).then(() => true);
    let isClosed = false;
    void closed.then(() => {
      isClosed = true;
    });
    const batch = Buffer.concat(Array.from({ length: 1000 }, (_, i) => keepalive(i)));
    let sent = 0;
    // Without a bound this goes on until 64 MiB of answers are queued in the receiver.
    while (!isClosed && sent < 64 * 1024 * 1024) {
      if (!s.write(batch)) await Promise.race([new Promise((r) => s.once('drain', r)), closed]);
      sent += batch.length;
    }
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
    expect(isClosed).toBe(true);
    expect(got.problems).toEqual([{ code: 'ING_ERR_X2X3_SLOW_READER', fatal: true }]);
    expect(answered).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(bound + 1000 * 48);
    await rx.close();
  }, 90_000);
});
