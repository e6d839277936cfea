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

/** The file sender's ACCEPT (MSNP8 file transfer): where it listens for the receiver's MSNFTP connection. */
export function listenerAccept(invitationCookie: string, address: string, port: number, authCookie: string): string {
  return (
    'MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\nInvitation-Command: ACCEPT\r\n' +
    `Invitation-Cookie: ${invitationCookie}\r\nIP-Address: ${address}\r\nPort: ${port}\r\nAuthCookie: ${authCookie}\r\n` +
    'Sender-Connect: TRUE\r\n\r\n'
  );
}

/** The sending side of MSNFTP: answers VER, checks USR's cookie, announces FIL, sends blocks after TFR. */
export function msnftpSender(file: Buffer, authCookie: string): net.Server {
  return net.createServer((s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const [cmd, ...args] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 2);
        if (cmd === 'VER') s.write('VER MSNFTP\r\n');
        else if (cmd === 'USR') {
          if (args[1] === authCookie) s.write(`FIL ${file.length}\r\n`);
          else s.end();
        } else if (cmd === 'TFR') {
          // Blocks of at most 2045 octets: 0, the length (16-bit little-endian), the data.
          for (let i = 0; i < file.length; i += 2045) {
            const part = file.subarray(i, i + 2045);
            s.write(Buffer.concat([Buffer.from([0, part.length & 0xff, part.length >> 8]), part]));
          }
        } else if (cmd === 'BYE') s.end();
      }
    });
    s.on('error', () => {});
  });
}

/** The receiving side of MSNFTP: connects, signs in with the cookie, reads the file, says BYE. */
export async function msnftpReceive(port: number, account: string, authCookie: string): Promise<Buffer> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => s.once('connect', () => r()).once('error', j));
  return new Promise<Buffer>((resolve, reject) => {
    let stage: 'ver' | 'fil' | 'data' = 'ver';
    let text = '';
    let size = 0;
    let raw = Buffer.alloc(0);
    const parts: Buffer[] = [];
    let got = 0;
    s.on('error', reject);
    s.write('VER MSNFTP\r\n');
    s.on('data', (d: Buffer) => {
      if (stage !== 'data') {
        text += d.toString('latin1');
        if (stage === 'ver' && text.includes('VER MSNFTP\r\n')) {
          stage = 'fil';
          text = '';
          s.write(`USR ${account} ${authCookie}\r\n`);
        } else if (stage === 'fil' && /FIL (\d+)\r\n/.test(text)) {
          size = Number(/FIL (\d+)\r\n/.exec(text)?.[1]);
          stage = 'data';
          s.write('TFR\r\n');
        }
        return;
      }
      raw = Buffer.concat([raw, d]);
      while (raw.length >= 3 && raw.length >= 3 + raw.readUInt16LE(1)) {
        const n = raw.readUInt16LE(1);
        parts.push(raw.subarray(3, 3 + n));
        got += n;
        raw = raw.subarray(3 + n);
      }
      if (got >= size) {
        s.end('BYE 16777989\r\n');
        resolve(Buffer.concat(parts));
      }
    });
  });
}
