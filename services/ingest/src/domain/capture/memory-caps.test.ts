// Per-flow and total memory caps of the TCP layer, with the real mail decoders behind it: a
// hostile flow that makes its decoder hold more and more is dropped and counted, and flows
// beside it are still decoded.
import { describe, expect, it } from 'vitest';
import { mailDecoderFactories } from '../mail/factories.ts';
import { msnpDecoderFactory } from '../msnp/msnp.ts';
import type { DecodedEvent, DecodeProblem } from '../stream.ts';
import { TCP_ACK, TCP_SYN } from './packet.ts';
import { type TcpLimits, TcpReassembler } from './tcp.ts';

const MiB = 1024 * 1024;

function reassembler(limits: Partial<TcpLimits>) {
  const events: DecodedEvent[] = [];
  const problems: DecodeProblem[] = [];
  const r = new TcpReassembler({
    factories: [...mailDecoderFactories(), msnpDecoderFactory()],
    sink: { event: (e) => events.push(e), problem: (p) => problems.push(p) },
    limits,
  });
  return { r, events, problems };
}

/** One TCP connection seen by the probe: handshake, then data either way in order. */
class Conn {
  #c = 1000;
  #s = 50000;
  #ts = 1_000_000;
  readonly r: TcpReassembler;
  readonly clientPort: number;
  readonly serverPort: number;
  constructor(r: TcpReassembler, clientPort: number, serverPort: number) {
    this.r = r;
    this.clientPort = clientPort;
    this.serverPort = serverPort;
    this.#seg(true, TCP_SYN, Buffer.alloc(0));
    this.#seg(false, TCP_SYN | TCP_ACK, Buffer.alloc(0));
    this.#c++;
    this.#s++;
  }

  client(data: string | Buffer): this {
    return this.#send(true, data);
  }

  server(data: string | Buffer): this {
    return this.#send(false, data);
  }

  #send(fromClient: boolean, data: string | Buffer): this {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < b.length; off += 64 * 1024)
      this.#seg(fromClient, TCP_ACK, b.subarray(off, off + 64 * 1024));
    return this;
  }

  #seg(fromClient: boolean, flags: number, payload: Buffer): void {
    const seq = fromClient ? this.#c : this.#s;
    const [src, dst, srcPort, dstPort] = fromClient
      ? ['192.0.2.10', '198.51.100.5', this.clientPort, this.serverPort]
      : ['198.51.100.5', '192.0.2.10', this.serverPort, this.clientPort];
    this.r.segment(src, dst, { srcPort, dstPort, seq: seq >>> 0, ack: 0, flags, payload }, this.#ts++);
    if (fromClient) this.#c += payload.length;
    else this.#s += payload.length;
  }
}

/** An SMTP session up to the middle of a message body of `bodyBytes` octets. */
function smtpInData(r: TcpReassembler, clientPort: number, bodyBytes: number): Conn {
  const c = new Conn(r, clientPort, 25)
    .server('220 mx ESMTP\r\n')
    .client('EHLO c.example\r\n')
    .server('250 mx\r\n')
    .client('MAIL FROM:<a@example.com>\r\n')
    .server('250 ok\r\n')
    .client('RCPT TO:<b@example.com>\r\n')
    .server('250 ok\r\n')
    .client('DATA\r\n')
    .server('354 go ahead\r\n')
    .client('Subject: big\r\n\r\n');
  const line = `${'x'.repeat(998)}\r\n`;
  for (let n = 0; n < bodyBytes; n += 64 * line.length) c.client(line.repeat(64));
  return c;
}

/** A whole SMTP session with a small message: it must survive next to a hostile flow. */
function smtpSmall(r: TcpReassembler, clientPort: number): void {
  new Conn(r, clientPort, 25)
    .server('220 mx ESMTP\r\n')
    .client('EHLO c.example\r\n')
    .server('250 mx\r\n')
    .client('MAIL FROM:<small@example.com>\r\n')
    .server('250 ok\r\n')
    .client('RCPT TO:<b@example.com>\r\n')
    .server('250 ok\r\n')
    .client('DATA\r\n')
    .server('354 go ahead\r\n')
    .client('Subject: hi\r\n\r\nhello\r\n.\r\n')
    .server('250 queued\r\n');
}

describe('TCP flow memory caps', () => {
  it('drops a flow whose decoder holds more than the per-flow cap, ignores its later segments, and counts it', () => {
    const { r, events, problems } = reassembler({ maxFlowBytes: 4 * MiB });
    // IMAP APPEND with literal after literal (LITERAL+): the assembler keeps every one of them.
    const conn = new Conn(r, 40001, 143).server('* OK IMAP ready\r\n').client('a1 APPEND INBOX {1048576+}\r\n');
    let maxHeld = 0;
    for (let i = 0; i < 12; i++) {
      conn.client(Buffer.alloc(MiB, 0x61)).client(' {1048576+}\r\n');
      maxHeld = Math.max(maxHeld, r.heldBytes);
    }
    expect(problems.filter((p) => p.code === 'ING_ERR_FLOW_MEMORY')).toHaveLength(1);
    expect(r.counters.flowsDroppedFlowMemory).toBe(1);
    // Over the cap by at most what one segment added.
    expect(maxHeld).toBeLessThanOrEqual(4 * MiB + 64 * 1024);
    expect(r.heldBytes).toBe(0);
    expect(r.counters.segmentsOfDroppedFlows).toBeGreaterThan(0);
    expect(r.flowCount).toBe(0);
    // A flow beside it is decoded as usual.
    smtpSmall(r, 40002);
    expect(events.filter((e) => e.action === 'smtp.send')).toHaveLength(1);
  });

  it('a large message under the per-flow cap is still decoded', () => {
    const { r, events, problems } = reassembler({ maxFlowBytes: 4 * MiB });
    smtpInData(r, 40003, 3 * MiB)
      .client('.\r\n')
      .server('250 queued\r\n');
    expect(problems.filter((p) => p.code === 'ING_ERR_FLOW_MEMORY')).toEqual([]);
    expect(events.filter((e) => e.action === 'smtp.send')).toHaveLength(1);
    expect(r.heldBytes).toBe(0);
  });

  it('drops the flows holding most once all flows together pass the total cap, and counts them', () => {
    const { r, events, problems } = reassembler({ maxFlowBytes: 8 * MiB, maxTotalBytes: 10 * MiB });
    let maxHeld = 0;
    // Four sessions each in the middle of a 3 MiB message: 12 MiB together.
    for (let i = 0; i < 4; i++) {
      smtpInData(r, 41000 + i, 3 * MiB);
      maxHeld = Math.max(maxHeld, r.heldBytes);
    }
    expect(problems.filter((p) => p.code === 'ING_ERR_FLOW_MEMORY')).toEqual([]);
    expect(problems.filter((p) => p.code === 'ING_ERR_CAPTURE_MEMORY').length).toBeGreaterThanOrEqual(1);
    expect(r.counters.flowsDroppedTotalMemory).toBeGreaterThanOrEqual(1);
    expect(r.heldBytes).toBeLessThanOrEqual(10 * MiB);
    expect(maxHeld).toBeLessThanOrEqual(10 * MiB + 64 * 1024);
    expect(r.flowCount).toBeLessThan(4);
    smtpSmall(r, 42000);
    expect(events.filter((e) => e.action === 'smtp.send')).toHaveLength(1);
  });

  it('counts what POP3 and MSNP decoders hold against the per-flow cap', () => {
    const { r, problems } = reassembler({ maxFlowBytes: 2 * MiB });
    // A RETR response that never ends.
    const pop = new Conn(r, 43000, 110).server('+OK ready\r\n').client('USER u\r\n').server('+OK\r\n');
    pop.client('PASS p\r\n').server('+OK\r\n').client('RETR 1\r\n').server('+OK 9999999 octets\r\n');
    const line = `${'y'.repeat(998)}\r\n`;
    for (let i = 0; i < 3 * 1024; i++) pop.server(line);
    expect(problems.filter((p) => p.code === 'ING_ERR_FLOW_MEMORY')).toHaveLength(1);
    // MSNP payloads are capped at 1 MiB each, but a payload in flight is held.
    const msnp = new Conn(r, 43001, 1863).client('VER 1 MSNP8 CVR0\r\n').client('MSG 2 N 1048576\r\n');
    msnp.client(Buffer.alloc(900 * 1024, 0x61));
    expect(r.heldBytes).toBeGreaterThanOrEqual(900 * 1024);
  });
});
