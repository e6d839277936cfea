// MSN Messenger (MSNP8) has no server to install any more: a scripted notification/switchboard
// server and a client conversation on loopback, for ingest's tests and the end-to-end flows.
import net from 'node:net';
import { RecordingClient } from './line-client.ts';

export const ALICE = 'alice@hotmail.com';
export const BOB = 'bob@hotmail.com';
export const len = (s: string) => Buffer.byteLength(s);
export const TEXT =
  'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=MS%20Sans%20Serif; EF=; CO=0; CS=0; PF=0\r\n\r\nsee you at the usual place';
export const REPLY =
  'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=B; CO=ff; CS=0; PF=22\r\n\r\nok, 9pm';
export const TYPING = `MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: ${BOB}\r\n\r\n\r\n`;
export const INVITE =
  'MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\nApplication-Name: File Transfer\r\n' +
  'Application-GUID: {5D3E02AB-6190-11d3-BBBB-00C04F795683}\r\nInvitation-Command: INVITE\r\nInvitation-Cookie: 91823\r\n' +
  'Application-File: map.jpg\r\nApplication-FileSize: 48213\r\nConnectivity: N\r\n\r\n';

/** Answers each client line with the scripted MSNP8 server behaviour. */
export function scriptedServer(): net.Server {
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

/** Sign-in, a switchboard with Bob, two messages each way, a file-transfer invitation, sign-out. */
export async function msnConversation(port: number): Promise<{ ns: RecordingClient; sb: RecordingClient }> {
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
  return { ns, sb };
}
