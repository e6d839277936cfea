// MSN direct file transfer on loopback (seed 002): the file sender's ACCEPT on the switchboard
// names its listener; the receiver connects there and runs MSNFTP. tcpdump records both flows and
// the capture pipeline must follow the invitation to the direct connection and give the file.
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALICE, BOB, INVITE, len, listenerAccept, msnftpReceive, msnftpSender, scriptedServer } from '@li/testing/msnp';
import { RecordingClient } from '@li/testing/peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msnpDecoderFactory } from '../src/domain/msnp/msnp.ts';
import { decodePcap, startTcpdump } from './mail-kit.ts';

const file = Buffer.from(Array.from({ length: 48_213 }, (_, i) => (i * 31 + 7) % 256));
const AUTH = '1811512';
let sbServer: net.Server;
let ftpServer: net.Server;
let sbPort: number;
let ftpPort: number;
let dir: string;

const listen = async (s: net.Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as net.AddressInfo).port;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'li-msnftp-'));
  sbServer = scriptedServer();
  ftpServer = msnftpSender(file, AUTH);
  sbPort = await listen(sbServer);
  ftpPort = await listen(ftpServer);
});

afterAll(async () => {
  await new Promise<void>((r) => sbServer.close(() => r()));
  await new Promise<void>((r) => ftpServer.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('MSN direct transfer on loopback', () => {
  it('is followed from the switchboard invitation to the MSNFTP connection, and the file is intercepted', async () => {
    const pcap = join(dir, 'direct.pcap');
    const dump = await startTcpdump(pcap, `tcp port ${sbPort} or tcp port ${ftpPort}`);
    const sb = await RecordingClient.connect(sbPort);
    await sb.exchange(`USR 1 ${ALICE} 17262740.1050826919.32308\r\n`, /USR 1 OK .*\r\n/);
    await sb.exchange(`CAL 2 ${BOB}\r\n`, /ok, 9pm/);
    await sb.exchange(`MSG 3 N ${len(INVITE)}\r\n${INVITE}`, /ACK 3\r\n/);
    const accept = listenerAccept('91823', '127.0.0.1', ftpPort, AUTH);
    await sb.exchange(`MSG 4 N ${len(accept)}\r\n${accept}`, /ACK 4\r\n/);
    const received = await msnftpReceive(ftpPort, BOB, AUTH);
    await sb.close();
    await dump.stop();
    expect(received.equals(file)).toBe(true); // the peers really transferred it

    // The direct connection's port is not an MSNP port: only the invitation leads the decoder there.
    const { events, problems } = await decodePcap(pcap, [msnpDecoderFactory({ ports: [sbPort] })]);
    expect(problems).toEqual([]);
    const ft = events.filter((e) => e.action.startsWith('msnp.ft.'));
    expect(ft.map((e) => e.action)).toEqual(['msnp.ft.start', 'msnp.ft.data', 'msnp.ft.end']);
    expect(ft[0]?.parties.map((p) => p.value)).toEqual([ALICE, BOB]);
    expect(ft[0]?.attributes).toMatchObject({ fileName: 'map.jpg', fileSize: String(file.length) });
    expect(ft[2]?.attributes).toMatchObject({ result: 'complete', receivedBytes: String(file.length) });
    // The content is the listener's octets: MSNFTP blocks whose data is the file.
    const wire = ft[1]?.content ?? Buffer.alloc(0);
    const parts: Buffer[] = [];
    for (let i = 0; i + 3 <= wire.length; ) {
      const n = wire.readUInt16LE(i + 1);
      parts.push(wire.subarray(i + 3, i + 3 + n));
      i += 3 + n;
    }
    expect(Buffer.concat(parts).equals(file)).toBe(true);
    expect(JSON.stringify(ft)).not.toContain(AUTH);
  });
});
