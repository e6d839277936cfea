// MSNP has no server to install any more: a scripted notification/switchboard server and a
// client talk MSNP8 on loopback, tcpdump records it, tshark's msnms dissector reads the capture
// (independent check that the bytes are MSNP), and the capture pipeline feeds our decoder.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../src/domain/mail/test-kit.ts';
import { msnpDecoderFactory } from '../src/domain/msnp/msnp.ts';
import { decodePcap, RecordingClient, startTcpdump, summary } from './mail-kit.ts';

const ALICE = 'alice@hotmail.com';
const BOB = 'bob@hotmail.com';
const len = (s: string) => Buffer.byteLength(s);
const TEXT =
  'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=MS%20Sans%20Serif; EF=; CO=0; CS=0; PF=0\r\n\r\nsee you at the usual place';
const REPLY =
  'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=B; CO=ff; CS=0; PF=22\r\n\r\nok, 9pm';
const TYPING = `MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: ${BOB}\r\n\r\n\r\n`;
const INVITE =
  'MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\nApplication-Name: File Transfer\r\n' +
  'Application-GUID: {5D3E02AB-6190-11d3-BBBB-00C04F795683}\r\nInvitation-Command: INVITE\r\nInvitation-Cookie: 91823\r\n' +
  'Application-File: map.jpg\r\nApplication-FileSize: 48213\r\nConnectivity: N\r\n\r\n';

/** Answers each client line with the scripted MSNP8 server behaviour. */
function scriptedServer(): net.Server {
  return net.createServer((s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      for (;;) {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        const [cmd, trid, ...args] = line.split(' ');
        if (cmd === 'MSG') {
          const n = Number(args[args.length - 1]);
          if (buf.length < nl + 2 + n) return;
          buf = buf.slice(nl + 2 + n);
          s.write(`ACK ${trid}\r\n`);
          continue;
        }
        buf = buf.slice(nl + 2);
        switch (cmd) {
          case 'VER':
            s.write(`VER ${trid} MSNP8 CVR0\r\n`);
            break;
          case 'CVR':
            s.write(`CVR ${trid} 6.0.0602 6.0.0602 6.0.0602 http://example.invalid/msn.exe http://example.invalid\r\n`);
            break;
          case 'USR':
            if (args[0] === 'TWN' && args[1] === 'I') s.write(`USR ${trid} TWN S lc=1033,id=507,tw=40\r\n`);
            else if (args[0] === 'TWN' && args[1] === 'S') {
              s.write(`USR ${trid} OK ${ALICE} Alice 1 0\r\n`);
              const profile = 'MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\n\r\n';
              s.write(`MSG Hotmail Hotmail ${len(profile)}\r\n${profile}`);
            } else s.write(`USR ${trid} OK ${ALICE} Alice\r\n`); // switchboard
            break;
          case 'CHG':
            s.write(`CHG ${trid} ${args[0]} 0\r\n`);
            s.write(`ILN ${trid} NLN ${BOB} Bob 268435492\r\n`);
            break;
          case 'XFR':
            s.write(`XFR ${trid} SB 127.0.0.1:1863 CKI 17262740.1050826919.32308\r\n`);
            break;
          case 'CAL':
            s.write(`CAL ${trid} RINGING 11752013\r\nJOI ${BOB} Bob\r\n`);
            s.write(`MSG ${BOB} Bob ${len(TYPING)}\r\n${TYPING}MSG ${BOB} Bob ${len(REPLY)}\r\n${REPLY}`);
            break;
          case 'OUT':
            s.end('OUT\r\n');
            break;
        }
      }
    });
    s.on('error', () => {});
  });
}

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
    const ns = await RecordingClient.connect(port);
    await ns.exchange('VER 1 MSNP8 CVR0\r\n', /VER 1 .*\r\n/);
    await ns.exchange(`CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS ${ALICE}\r\n`, /CVR 2 .*\r\n/);
    await ns.exchange(`USR 3 TWN I ${ALICE}\r\n`, /USR 3 .*\r\n/);
    await ns.exchange('USR 4 TWN S t=secret-passport-ticket&p=also-secret\r\n', /USR 4 OK .*\r\n/);
    await ns.exchange('CHG 5 NLN 0\r\n', /ILN 5 .*\r\n/);
    await ns.exchange('XFR 6 SB\r\n', /XFR 6 .*\r\n/);
    const sb = await RecordingClient.connect(port);
    await sb.exchange(`USR 1 ${ALICE} 17262740.1050826919.32308\r\n`, /USR 1 OK .*\r\n/);
    await sb.exchange(`CAL 2 ${BOB}\r\n`, /ok, 9pm/);
    await sb.exchange(`MSG 3 A ${len(TEXT)}\r\n${TEXT}`, /ACK 3\r\n/);
    await sb.exchange(`MSG 4 A ${len(INVITE)}\r\n${INVITE}`, /ACK 4\r\n/);
    await sb.close();
    await ns.exchange('OUT\r\n', /OUT\r\n/);
    await ns.close();
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
