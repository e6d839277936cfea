// MSNP has no server to install any more: a scripted notification/switchboard server and a
// client talk MSNP8 on loopback, tcpdump records it, tshark's msnms dissector reads the capture
// (independent check that the bytes are MSNP), and the capture pipeline feeds our decoder.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALICE, BOB, len, msnConversation, REPLY, scriptedServer, TEXT } from '@li/testing/msnp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msnpDecoderFactory } from '../src/domain/msnp/msnp.ts';
import { replay } from '../src/testing/decoder-kit.ts';
import { decodePcap, startTcpdump, summary } from './mail-kit.ts';

let server: net.Server;
let port: number;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'li-msnp-'));
  server = scriptedServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('MSNP8 conversation on loopback', () => {
  it('is read as MSNP by tshark and decoded into sign-in, presence and messages', async () => {
    const pcap = join(dir, 'msnp.pcap');
    const dump = await startTcpdump(pcap, `tcp port ${port}`);
    const { ns, sb } = await msnConversation(port);
    await dump.stop();

    // Independent reading: tshark's MSN Messenger dissector on this port, no malformed packets.
    const tree = execFileSync('tshark', ['-r', pcap, '-d', `tcp.port==${port},msnms`, '-V', '-Y', 'msnms'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(tree).toContain('MSN Messenger Service');
    expect(tree).toContain(`USR 3 TWN I ${ALICE}`);
    expect(tree).toContain(`MSG 3 A ${len(TEXT)}`);
    expect(tree).toContain(`JOI ${BOB} Bob`);
    const bad = execFileSync(
      'tshark',
      ['-r', pcap, '-d', `tcp.port==${port},msnms`, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    expect(bad.trim()).toBe('');

    const fromWire = await decodePcap(pcap, [msnpDecoderFactory({ ports: [port] })]);
    expect(fromWire.problems).toEqual([]);
    const observed = [
      ...replay(msnpDecoderFactory({ ports: [port] }), port, ns.steps).events,
      ...replay(msnpDecoderFactory({ ports: [port] }), port, sb.steps).events,
    ];
    // Same events from the wire as from what the client saw (flow order may differ: sort).
    expect(summary(fromWire.events).sort()).toEqual(summary(observed).sort());
    const actions = fromWire.events.map((e) => `${e.category}:${e.action}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'LOGIN:msnp.signin',
        'SIGNALS:msnp.presence',
        'SIGNALS:msnp.sb.referral',
        'SIGNALS:msnp.sb.session',
        'SIGNALS:msnp.sb.call',
        'SIGNALS:msnp.sb.join',
        'SIGNALS:msnp.typing',
        'SIGNALS:msnp.msg',
        'SIGNALS:msnp.invite',
        'SIGNALS:msnp.signout',
      ]),
    );
    expect(JSON.stringify(fromWire.events)).not.toContain('secret-passport-ticket');
    const msgs = fromWire.events.filter((e) => e.action === 'msnp.msg');
    expect(msgs.map((e) => e.content?.toString())).toEqual(expect.arrayContaining([TEXT, REPLY]));
    const fromBob = msgs.find((e) => e.content?.toString() === REPLY);
    expect(fromBob?.parties).toEqual([
      { role: 'SENDER', type: 'EMAIL', value: BOB },
      { role: 'RECIPIENT', type: 'EMAIL', value: ALICE },
    ]);
    expect(fromBob?.attributes.imFormat).toBe('FN=Arial; EF=B; CO=ff; CS=0; PF=22');
    const invite = fromWire.events.find((e) => e.action === 'msnp.invite');
    expect(invite?.attributes).toMatchObject({ fileName: 'map.jpg', fileSize: '48213', invitationCookie: '91823' });
    expect(invite?.parties[0]).toEqual({ role: 'SENDER', type: 'EMAIL', value: ALICE });
  });
});
