import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replay, type Step } from '../../testing/decoder-kit.ts';
import { msnpDecoderFactory, parseMsgPayload } from './msnp.ts';

const msg = (headers: string, body: string) => `MIME-Version: 1.0\r\n${headers}\r\n\r\n${body}`;
const len = (s: string) => Buffer.byteLength(s, 'utf8');

const text = msg(
  'Content-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22',
  'meet at 5? ünïcode',
);
const typing = msg('Content-Type: text/x-msmsgscontrol\r\nTypingUser: bob@hotmail.com', '\r\n');
const invite = msg(
  'Content-Type: text/x-msmsgsinvite; charset=UTF-8',
  'Application-Name: File Transfer\r\nApplication-GUID: {5D3E02AB-6190-11d3-BBBB-00C04F795683}\r\nInvitation-Command: INVITE\r\nInvitation-Cookie: 53829\r\nApplication-File: plan.txt\r\nApplication-FileSize: 1024\r\n\r\n',
);
const voice = msg(
  'Content-Type: text/x-msmsgsinvite; charset=UTF-8',
  'Application-Name: an audio conversation\r\nApplication-GUID: {02D3C01F-BF30-4825-A83A-DE7AF41648AA}\r\nInvitation-Command: INVITE\r\nInvitation-Cookie: 77\r\n\r\n',
);

const notification: Step[] = [
  ['C', 'VER 1 MSNP8 CVR0\r\n'],
  ['S', 'VER 1 MSNP8 CVR0\r\n'],
  ['C', 'CVR 2 0x0409 win 4.10 i386 MSNMSGR 5.0.0544 MSMSGS alice@hotmail.com\r\n'],
  ['S', 'CVR 2 6.0.0602 6.0.0602 1.0.0000 http://download.microsoft.com/msn.exe http://messenger.msn.com\r\n'],
  ['C', 'USR 3 TWN I alice@hotmail.com\r\n'],
  ['S', 'USR 3 TWN S lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229\r\n'],
  ['C', 'USR 4 TWN S t=53*1hAu8ADuD3TEwdXoOMi08sD*2!cMrntTwVMTjoB3p6stWTqzbkKZPVQzA5NOt19SLI60PY!b8K4YhC!Ooo5ug$$\r\n'],
  ['S', 'USR 4 OK alice@hotmail.com Alice%20A 1 0\r\n'],
  [
    'S',
    `MSG Hotmail Hotmail ${len('Content-Type: text/x-msmsgsprofile; charset=UTF-8\r\n\r\n')}\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\n\r\n`,
  ],
  ['C', 'CHG 5 NLN 0\r\n'],
  ['S', 'CHG 5 NLN 0\r\n'],
  ['S', 'ILN 5 AWY bob@hotmail.com Bob 268435492\r\n'],
  ['S', 'NLN BSY carol@hotmail.com Carol%20C 268435456\r\n'],
  ['S', 'FLN carol@hotmail.com\r\n'],
  ['C', 'XFR 6 SB\r\n'],
  ['S', 'XFR 6 SB 207.46.108.37:1863 CKI 17262740.1050826919.32308\r\n'],
  ['S', 'RNG 11752013 207.46.108.38:1863 CKI 849102291.520491113 bob@hotmail.com Bob\r\n'],
  ['C', 'OUT\r\n'],
];

const switchboard: Step[] = [
  ['C', 'USR 1 alice@hotmail.com 17262740.1050826919.32308\r\n'],
  ['S', 'USR 1 OK alice@hotmail.com Alice\r\n'],
  ['C', 'CAL 2 bob@hotmail.com\r\n'],
  ['S', 'CAL 2 RINGING 11752013\r\n'],
  ['S', 'JOI bob@hotmail.com Bob\r\n'],
  ['S', `MSG bob@hotmail.com Bob ${len(typing)}\r\n${typing}`],
  ['S', `MSG bob@hotmail.com Bob ${len(text)}\r\n${text}`],
  ['C', `MSG 3 N ${len(text)}\r\n${text}`],
  ['C', `MSG 4 N ${len(invite)}\r\n${invite}`],
  ['S', `MSG bob@hotmail.com Bob ${len(voice)}\r\n${voice}`],
  ['S', 'BYE bob@hotmail.com\r\n'],
];

describe('MSNP decoder', () => {
  it('decodes notification-server sign-in, presence, referrals and rings', () => {
    const { events, problems } = replay(msnpDecoderFactory(), 1863, notification);
    expect(problems).toEqual([]);
    expect(events.map((e) => e.action)).toEqual([
      'msnp.signin',
      'msnp.presence',
      'msnp.presence',
      'msnp.presence',
      'msnp.presence',
      'msnp.sb.referral',
      'msnp.ring',
      'msnp.signout',
    ]);
    expect(events[0]).toMatchObject({
      category: 'LOGIN',
      parties: [{ role: 'ACCOUNT', type: 'EMAIL', value: 'alice@hotmail.com' }],
      attributes: { msnpVersion: 'MSNP8', displayName: 'Alice A' },
    });
    expect(JSON.stringify(events)).not.toContain('t=53*');
    expect(events[2]).toMatchObject({
      attributes: { status: 'AWY' },
      parties: [
        { role: 'SENDER', value: 'bob@hotmail.com' },
        { role: 'RECIPIENT', value: 'alice@hotmail.com' },
      ],
    });
    expect(events[3]?.attributes.displayName).toBe('Carol C');
    expect(events[4]?.attributes.status).toBe('FLN');
    expect(events[6]?.parties).toEqual([
      { role: 'SENDER', type: 'EMAIL', value: 'bob@hotmail.com' },
      { role: 'RECIPIENT', type: 'EMAIL', value: 'alice@hotmail.com' },
    ]);
  });

  it('decodes a switchboard conversation: typing, messages both ways, file and voice invitations', () => {
    const { events } = replay(msnpDecoderFactory(), 1863, switchboard);
    expect(events.map((e) => `${e.category}:${e.action}`)).toEqual([
      'SIGNALS:msnp.sb.session',
      'SIGNALS:msnp.sb.call',
      'SIGNALS:msnp.sb.join',
      'SIGNALS:msnp.typing',
      'SIGNALS:msnp.msg',
      'SIGNALS:msnp.msg',
      'SIGNALS:msnp.invite',
      'MEDIA:msnp.invite',
      'SIGNALS:msnp.sb.leave',
      'SIGNALS:msnp.sb.closed', // the client left the switchboard by closing the connection
    ]);
    expect(events.at(-1)?.parties).toEqual([{ role: 'ACCOUNT', type: 'EMAIL', value: 'alice@hotmail.com' }]);
    const [incoming, outgoing] = events.filter((e) => e.action === 'msnp.msg');
    expect(incoming?.parties).toEqual([
      { role: 'SENDER', type: 'EMAIL', value: 'bob@hotmail.com' },
      { role: 'RECIPIENT', type: 'EMAIL', value: 'alice@hotmail.com' },
    ]);
    expect(outgoing?.parties).toEqual([
      { role: 'SENDER', type: 'EMAIL', value: 'alice@hotmail.com' },
      { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@hotmail.com' },
    ]);
    expect(outgoing?.content?.toString()).toBe(text);
    expect(incoming?.attributes.msnpDirection).toBe('toClient');
    expect(outgoing?.attributes).toMatchObject({
      imFormat: 'FN=Arial; EF=; CO=0; CS=0; PF=22',
      ackType: 'N',
      msnpDirection: 'toServer',
    });
    expect(parseMsgPayload(outgoing?.content as Buffer).body.toString()).toBe('meet at 5? ünïcode');
    const file = events.find((e) => e.action === 'msnp.invite' && e.category === 'SIGNALS');
    expect(file?.attributes).toMatchObject({
      application: 'File Transfer',
      fileName: 'plan.txt',
      fileSize: '1024',
      invitationCommand: 'INVITE',
    });
    expect(events.find((e) => e.action === 'msnp.typing')?.attributes.typingUser).toBe('bob@hotmail.com');
  });

  it('handles empty payloads without stalling', () => {
    const { events } = replay(msnpDecoderFactory(), 1863, [
      ['C', 'USR 1 alice@hotmail.com 1.2.3\r\n'],
      ['S', 'USR 1 OK alice@hotmail.com Alice\r\nMSG bob@hotmail.com Bob 0\r\nJOI bob@hotmail.com Bob\r\n'],
    ]);
    expect(events.map((e) => e.action)).toEqual([
      'msnp.sb.session',
      'msnp.msg.other',
      'msnp.sb.join',
      'msnp.sb.closed',
    ]);
  });

  it('decodes an MSNP15 SSO sign-in and MSNP13-style presence', () => {
    const mdata = msg('Content-Type: text/x-msmsgsinitialmdatanotification; charset=UTF-8', 'Mail-Data: x');
    const { events } = replay(msnpDecoderFactory(), 1863, [
      ['C', 'VER 1 MSNP15 CVR0\r\n'],
      ['S', 'VER 1 MSNP15\r\n'],
      ['C', 'USR 2 SSO I carol@live.com\r\n'],
      ['S', 'USR 2 SSO S MBI_KEY_OLD 8CLhG/xfgYZ7TyRQ/jIAWyDmd/w4R4GF2yKLS6tYrnjzi4cFag/Nr+hxsfg5zlCf\r\n'],
      ['C', 'USR 3 SSO S t=EwCoARAnAAAUDEADBEEF AAAAAAAAAA==\r\n'],
      ['S', 'USR 3 OK carol@live.com 1 0\r\n'],
      ['S', 'NLN IDL dave@live.com 1 Dave 2789003324 %3Cmsnobj%2F%3E\r\n'],
      ['S', `MSG Hotmail Hotmail ${len(mdata)}\r\n${mdata}`],
    ]);
    // No OUT: the connection's end ends the signed-in session.
    expect(events.map((e) => e.action)).toEqual(['msnp.signin', 'msnp.presence', 'msnp.closed']);
    expect(events[0]?.attributes).toEqual({ msnpVersion: 'MSNP15', result: 'success' });
    expect(events[1]?.attributes).toMatchObject({ status: 'IDL', displayName: 'Dave' });
    expect(JSON.stringify(events)).not.toContain('EwCoARAn');
  });

  it('ends a session once: OUT is the signout and the close adds nothing; no sign-in, no end', () => {
    const out = replay(msnpDecoderFactory(), 1863, [
      ['C', 'USR 3 TWN I alice@hotmail.com\r\n'],
      ['S', 'USR 3 TWN S lc=1033\r\n'],
      ['C', 'USR 4 TWN S t=x\r\n'],
      ['S', 'USR 4 OK alice@hotmail.com Alice 1 0\r\n'],
      ['C', 'OUT\r\n'],
      ['S', 'OUT\r\n'],
    ]).events;
    expect(out.map((e) => e.action)).toEqual(['msnp.signin', 'msnp.signout']);
    const failed = replay(msnpDecoderFactory(), 1863, [
      ['C', 'USR 3 TWN I eve@hotmail.com\r\n'],
      ['S', '911 3\r\n'],
    ]).events;
    expect(failed.map((e) => e.action)).toEqual(['msnp.signin.failed']);
  });

  it('reports a failed sign-in (911)', () => {
    const { events } = replay(msnpDecoderFactory(), 1863, [
      ['C', 'USR 3 TWN I eve@hotmail.com\r\n'],
      ['S', '911 3\r\n'],
    ]);
    expect(events).toMatchObject([
      { category: 'LOGIN', action: 'msnp.signin.failed', attributes: { errorCode: '911' } },
    ]);
  });

  it('is independent of segmentation', () => {
    const whole = replay(msnpDecoderFactory(), 1863, switchboard).events.map((e) => [
      e.action,
      e.content?.toString('hex'),
    ]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 8 }), (cuts) => {
        const got = replay(msnpDecoderFactory(), 1863, switchboard, () => cuts).events;
        expect(got.map((e) => [e.action, e.content?.toString('hex')])).toEqual(whole);
      }),
      { numRuns: 100 },
    );
  });

  it('survives random and mutated input', () => {
    const all = [...notification, ...switchboard];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 200 })), { maxLength: 20 }),
        fc.array(fc.tuple(fc.nat(all.length - 1), fc.nat(300), fc.integer({ min: 0, max: 255 })), { maxLength: 10 }),
        (noise, mutations) => {
          const steps: Step[] = all.map(([s, t]) => [s, Buffer.from(t)] as const);
          for (const [i, at, v] of mutations) {
            const b = steps[i]?.[1] as Buffer;
            if (b.length > 0) b[at % b.length] = v;
          }
          for (const [c, b] of noise) steps.push([c ? 'C' : 'S', Buffer.from(b)]);
          replay(msnpDecoderFactory({ limits: { maxLineBytes: 256, maxMessageBytes: 1024 } }), 1863, steps);
        },
      ),
      { numRuns: 300 },
    );
  });
});
