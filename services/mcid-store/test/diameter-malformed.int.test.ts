// A CDS that sends unreadable Diameter messages over a real TCP connection: a 40 KB grouped AVP
// nested 5000 deep (once as an answer, once as a request) and a header announcing 10 MB. Each is
// a decode error for that message or that connection; the process lives on and the next valid
// message is delivered.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { recordingLogger } from '@li/log/testing';
import { pinnedNode } from '@li/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  asU32,
  avp,
  decodeMessage,
  encodeMessage,
  FLAG_R,
  findAvp,
  MessageFramer,
} from '../src/adapters/diameter/codec.ts';
import { BASE, CMD, groupedPredicate } from '../src/adapters/diameter/dictionary.ts';
import { CdsSink } from '../src/adapters/reporters.ts';
import { sampleReports } from '../src/testing/reports.ts';
import { identity, peerConfig } from './rf-peer.ts';

/** Vendor-Specific-Application-Id (Grouped) inside itself, `depth` times: 8 bytes a level. */
function nestedAvp(depth: number): Buffer {
  const out = Buffer.alloc(depth * 8);
  for (let i = 0; i < depth; i++) {
    out.writeUInt32BE(BASE.VENDOR_SPECIFIC_APPLICATION_ID, i * 8);
    out.writeUInt32BE(out.length - i * 8, i * 8 + 4);
    out[i * 8 + 4] = 0x40; // M bit
  }
  return out;
}

function withRawAvps(head: Buffer, raw: Buffer): Buffer {
  const out = Buffer.concat([head, raw]);
  out.writeUInt32BE(out.length, 0);
  out[0] = 1;
  return out;
}

type AcrAnswer = 'ok' | 'nested' | 'huge';

/** A scripted CDS: CEA 2001, then answers each ACR as the next entry of `script` says. */
class RawCds {
  readonly server: Server;
  readonly sockets: Socket[] = [];
  readonly answersToUs: ReturnType<typeof decodeMessage>[] = [];
  script: AcrAnswer[] = [];

  constructor() {
    this.server = createServer((s) => this.serve(s));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private serve(s: Socket): void {
    this.sockets.push(s);
    const framer = new MessageFramer(1 << 20);
    s.on('error', () => {});
    s.on('data', (chunk: Buffer) => {
      for (const f of framer.push(chunk)) {
        const m = decodeMessage(f, groupedPredicate(identity.privateVendorId));
        if (!m.ok) throw new Error(`test CDS could not read our message: ${m.reason}`);
        const req = m.value;
        if (!(req.flags & FLAG_R)) {
          this.answersToUs.push(m);
          continue;
        }
        const answer = (avps = [avp.u32(BASE.RESULT_CODE, 2001)]) =>
          encodeMessage({ ...req, flags: req.flags & 0x40, avps: [...avps, ...this.origin()] });
        if (req.commandCode !== CMD.ACCOUNTING) {
          s.write(answer());
          continue;
        }
        const mode = this.script.shift() ?? 'ok';
        if (mode === 'ok') s.write(answer());
        else if (mode === 'nested') s.write(withRawAvps(answer().subarray(0, 20), nestedAvp(5000)));
        else {
          // Only the header, announcing 10 MiB: a peer must not wait for (and buffer) the rest.
          const head = Buffer.from(answer().subarray(0, 20));
          head.writeUInt32BE(10 * 1024 * 1024, 0);
          head[0] = 1;
          s.write(head);
        }
      }
    });
  }

  private origin() {
    return [avp.utf8(BASE.ORIGIN_HOST, 'cds.raw.test'), avp.utf8(BASE.ORIGIN_REALM, 'test.local')];
  }

  /** Sends the peer a DWR carrying the nested AVP on the last connection. */
  sendNestedRequest(hopByHop: number): void {
    const head = encodeMessage({
      flags: FLAG_R,
      commandCode: CMD.DEVICE_WATCHDOG,
      applicationId: 0,
      hopByHop,
      endToEnd: hopByHop,
      avps: [],
    });
    this.sockets.at(-1)!.write(withRawAvps(head, nestedAvp(5000)));
  }
}

let cds: RawCds | undefined;
let sink: CdsSink | undefined;
afterEach(async () => {
  await sink?.close();
  for (const s of cds?.sockets ?? []) s.destroy();
  cds?.server.close();
});

const waitUntil = async (ok: () => boolean, what: string) => {
  const deadline = Date.now() + 5_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('Diameter peer against a CDS sending malformed messages', () => {
  it('survives a 40 KB nested AVP and an oversized message, and delivers the next report', async () => {
    cds = new RawCds();
    cds.server.listen(0, '127.0.0.1');
    await once(cds.server, 'listening');
    // Fields as the sink passes them, before @li/log masks digit runs in `reason`.
    const { log, lines } = recordingLogger();
    const warned = () => lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.fields);
    sink = new CdsSink(peerConfig(cds.port, { answerTimeoutMs: 3_000, connectTimeoutMs: 3_000 }), identity, { log });
    const reports = sampleReports(4);
    cds.script = ['nested', 'ok', 'huge', 'ok'];

    // An ACA that nests 5000 deep fails its ACR at once, as a decode error, not a timeout.
    const t0 = Date.now();
    expect(await sink.deliver(reports[0]!)).toMatchObject({ ok: false, code: 'MCD_ERR_DIAMETER_DECODE' });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(warned()).toContainEqual(expect.objectContaining({ code: 'MCD_ERR_DIAMETER_DECODE' }));

    // A request that nests 5000 deep is answered DIAMETER_UNABLE_TO_COMPLY, on the same connection.
    cds.sendNestedRequest(0x5eed);
    await waitUntil(() => cds!.answersToUs.length > 0, 'the answer to the nested DWR');
    const answer = cds.answersToUs[0]!;
    expect(answer.ok && answer.value.hopByHop).toBe(0x5eed);
    expect(answer.ok && asU32(findAvp(answer.value.avps, BASE.RESULT_CODE))).toBe(5012);

    // The next valid exchange on that connection works.
    expect(await sink.deliver(reports[1]!)).toMatchObject({ ok: true, via: 'CDS' });
    expect(cds.sockets).toHaveLength(1);

    // A header announcing 10 MB closes that connection with a logged code, before buffering it.
    lines.length = 0;
    expect(await sink.deliver(reports[2]!)).toMatchObject({ ok: false, code: 'MCD_ERR_DIAMETER_CLOSED' });
    expect(warned()).toContainEqual(
      expect.objectContaining({
        code: 'MCD_ERR_DIAMETER_DECODE',
        reason: 'Diameter message length 10485760 over 65536',
      }),
    );
    // The sink connects again and the next report goes through.
    expect(await sink.deliver(reports[3]!)).toMatchObject({ ok: true, via: 'CDS' });
    expect(cds.sockets).toHaveLength(2);
  }, 30_000);

  it('a service process that gets a 40 KB nested ACA keeps running and delivers the next report', async () => {
    cds = new RawCds();
    cds.server.listen(0, '127.0.0.1');
    await once(cds.server, 'listening');
    cds.script = ['nested', 'ok'];
    const child = join(import.meta.dirname, 'diameter-child.ts');
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(pinnedNode(), [child, String(cds!.port), '2'], { timeout: 20_000 }, (err, stdout) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
      );
    });
    expect(result.code).toBe(0);
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ ok: false, code: 'MCD_ERR_DIAMETER_DECODE' }, { ok: true }]);
  }, 30_000);
});
