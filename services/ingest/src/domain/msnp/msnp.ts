// Passive MSN Messenger protocol decoder (MSNP8..MSNP15 style, TCP 1863; seed 002). One decoder
// handles all three server roles because a connection shows which one it is by its commands:
// dispatch (VER/CVR/USR then XFR NS), notification (USR TWN|SSO sign-in, CHG/ILN/NLN/FLN
// presence, RNG and XFR SB for chats) and switchboard (USR/ANS, CAL, JOI, IRO, BYE, MSG).
// Commands are "CMD TrID args CRLF"; payload commands end with a byte count and that many
// octets follow the CRLF (MSG carries MIME headers then a body). A signed-in connection ends with
// msnp.signout (OUT), else msnp.closed / msnp.sb.closed when it closes: the encoder's IRI-END.
import type { Party } from '@li/schemas';
import { ByteQueue, compact, DEFAULT_LIMITS, GuardedDecoder, type TextDecoderLimits } from '../mail/common.ts';
import type { PortOptions } from '../mail/smtp.ts';
import type { DecoderSink, Direction, FlowEndpoints, StreamDecoderFactory } from '../stream.ts';
import { DirectTransfers, MSNFTP_DEFAULT_PORT, MsnFtpDecoder } from './direct.ts';

export const MSNP_DEFAULT_PORTS: readonly number[] = [1863];

/** Content type of msnp.msg events: the MSG payload as sent, MIME headers then body. */
const MSNP_MESSAGE_CONTENT_TYPE = 'application/x-msnp-msg';

/** Commands whose last argument is a payload length (MSNP8..18). */
const PAYLOAD_COMMANDS = new Set(['MSG', 'UUX', 'UBX', 'NOT', 'GCF', 'ADL', 'RML', 'FQY', 'QRY', 'UUM', 'UBM', 'IPG']);

/** Payloads are small (MSG ≤ 1664 octets in practice); anything huge is a desync. */
const MAX_PAYLOAD = 1024 * 1024;

// Application GUIDs of text/x-msmsgsinvite (MSNP8-era invitations).
const MEDIA_GUIDS = new Set([
  '{02D3C01F-BF30-4825-A83A-DE7AF41648AA}', // voice conversation
  '{44BBA842-CC51-11CF-AAFA-00AA00B6015C}', // NetMeeting
  '{4BD96FC0-AB17-4425-A14A-439185962DC8}', // webcam
]);

export interface MimePayload {
  headers: Map<string, string>;
  body: Buffer;
}

/** Splits an MSG payload into its MIME-style header map (lower-cased names) and body. */
export function parseMsgPayload(payload: Buffer): MimePayload {
  let sep = payload.indexOf('\r\n\r\n');
  let skip = 4;
  if (sep < 0) {
    sep = payload.indexOf('\n\n');
    skip = 2;
  }
  const head = payload.toString('utf8', 0, sep < 0 ? payload.length : sep);
  const headers = new Map<string, string>();
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: sep < 0 ? Buffer.alloc(0) : payload.subarray(sep + skip) };
}

function email(value: string): Party[] {
  return value ? [{ role: 'ACCOUNT', type: 'EMAIL', value }] : [];
}

function safeDecode(s: string | undefined): string | null {
  if (s === undefined) return null;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

interface PendingPayload {
  direction: Direction;
  verb: string;
  args: string[];
  remaining: number;
  parts: Buffer[];
  /** Octets in parts. */
  held: number;
}

class MsnpDecoder extends GuardedDecoder {
  private readonly queues: Record<Direction, ByteQueue>;
  private readonly payloads: Record<Direction, PendingPayload | null> = { toServer: null, toClient: null };
  private account: string | null = null;
  /** OUT seen, or the connection's end already reported: the session ended once. */
  private signedOut = false;
  private candidate: string | null = null;
  private role: 'dispatch' | 'notification' | 'switchboard' | 'unknown' = 'unknown';
  private version: string | null = null;
  private participants = new Set<string>();
  private calls = new Map<string, string>();
  /** Invitations offered on this switchboard by Invitation-Cookie (text/x-msmsgsinvite fields). */
  private invitations = new Map<string, Map<string, string>>();

  private readonly direct: DirectTransfers;

  constructor(
    flow: FlowEndpoints,
    sink: DecoderSink,
    direct: DirectTransfers,
    limits: TextDecoderLimits = DEFAULT_LIMITS,
  ) {
    super('msnp', flow, sink);
    this.direct = direct;
    this.queues = { toServer: new ByteQueue(limits.maxLineBytes), toClient: new ByteQueue(limits.maxLineBytes) };
  }

  protected step(direction: Direction, bytes: Buffer, tsMicros: number): void {
    const q = this.queues[direction];
    q.push(bytes);
    for (;;) {
      const pending = this.payloads[direction];
      if (pending) {
        if (pending.remaining > 0) {
          const chunk = q.take(pending.remaining);
          if (chunk.length === 0) return;
          pending.parts.push(chunk);
          pending.held += chunk.length;
          pending.remaining -= chunk.length;
          if (pending.remaining > 0) return;
        }
        this.payloads[direction] = null;
        this.payload(pending, Buffer.concat(pending.parts), tsMicros);
        continue;
      }
      const line = q.nextLine();
      if (line === null) return;
      if (line.kind === 'overlong') {
        this.out.problem('ING_ERR_LINE_TOO_LONG', `msnp: ${direction} line of ${line.length} octets skipped`);
        continue;
      }
      const words = line.text.split(' ').filter((w) => w !== '');
      const verb = (words[0] ?? '').toUpperCase();
      const args = words.slice(1);
      if (PAYLOAD_COMMANDS.has(verb)) {
        const n = Number(args[args.length - 1]);
        if (!Number.isSafeInteger(n) || n < 0 || n > MAX_PAYLOAD) {
          this.out.problem('ING_ERR_PROTOCOL', `msnp: ${verb} with an invalid payload length`);
          continue;
        }
        this.payloads[direction] = { direction, verb, args, remaining: n, parts: [], held: 0 };
        continue;
      }
      this.command(direction, verb, args, tsMicros);
    }
  }

  gap(direction: Direction, length: number, _tsMicros: number): void {
    this.out.problem('ING_ERR_STREAM_GAP', `msnp: ${length} octets missing (${direction})`);
    const p = this.payloads[direction];
    if (p && length < p.remaining) {
      p.remaining -= length;
      p.parts.push(Buffer.alloc(length));
      p.held += length;
      return;
    }
    this.payloads[direction] = null;
    this.queues[direction].clear();
  }

  end(tsMicros: number): void {
    this.queues.toServer.clear();
    this.queues.toClient.clear();
    // A switchboard is left by closing the connection; a notification session may just drop.
    if (this.account && !this.signedOut) {
      this.signedOut = true;
      this.signal(this.role === 'switchboard' ? 'msnp.sb.closed' : 'msnp.closed', tsMicros, email(this.account), {});
    }
  }

  bufferedBytes(): number {
    const q = this.queues;
    return (
      q.toServer.length + q.toClient.length + (this.payloads.toServer?.held ?? 0) + (this.payloads.toClient?.held ?? 0)
    );
  }

  private signal(action: string, ts: number, parties: Party[], attributes: Record<string, string | null | undefined>) {
    this.out.emit({
      category: 'SIGNALS',
      action,
      tsMicros: ts,
      parties,
      attributes: compact({ msnpRole: this.role, msnpVersion: this.version, ...attributes }),
    });
  }

  private command(direction: Direction, verb: string, args: string[], ts: number): void {
    const fromClient = direction === 'toServer';
    switch (verb) {
      case 'VER':
        if (!fromClient) this.version = args[1] ?? null;
        break;
      case 'USR':
        this.usr(fromClient, args, ts);
        break;
      case 'ANS':
        // Answering an invitation on a switchboard: "ANS TrID passport cookie sessionId".
        if (fromClient) {
          this.role = 'switchboard';
          this.account = args[1] ?? this.account;
        } else if (args[1] === 'OK') {
          this.signal('msnp.sb.answer', ts, email(this.account ?? ''), {});
        }
        break;
      case 'XFR':
        if (!fromClient) {
          const kind = args[1] ?? '';
          if (kind === 'NS' && this.role === 'unknown') this.role = 'dispatch';
          this.signal(kind === 'NS' ? 'msnp.referral' : 'msnp.sb.referral', ts, email(this.account ?? ''), {
            referralType: kind,
            server: args[2],
          });
        }
        break;
      case 'CHG':
        if (!fromClient) {
          this.signal('msnp.presence', ts, email(this.account ?? ''), { status: args[1], clientId: args[2] });
        }
        break;
      case 'ILN':
      case 'NLN': {
        // ILN TrID status passport [networkId] friendly ...; NLN has no TrID.
        const a = verb === 'ILN' ? args.slice(1) : args;
        const contact = a[1] ?? '';
        const friendly = /^\d+$/.test(a[2] ?? '') && a.length > 3 ? a[3] : a[2];
        this.presence(contact, a[0] ?? '', safeDecode(friendly), ts);
        break;
      }
      case 'FLN':
        this.presence(args[0] ?? '', 'FLN', null, ts);
        break;
      case 'RNG': {
        // RNG sessionId sbAddress CKI cookie caller friendly: someone invites the account to a chat.
        const caller = args[4] ?? '';
        this.signal(
          'msnp.ring',
          ts,
          [
            ...(caller ? [{ role: 'SENDER' as const, type: 'EMAIL' as const, value: caller }] : []),
            ...(this.account ? [{ role: 'RECIPIENT' as const, type: 'EMAIL' as const, value: this.account }] : []),
          ],
          { server: args[1], sessionId: args[0] },
        );
        break;
      }
      case 'CAL':
        if (fromClient) this.calls.set(args[0] ?? '', args[1] ?? '');
        else if (args[1] === 'RINGING') {
          const invitee = this.calls.get(args[0] ?? '') ?? '';
          this.calls.delete(args[0] ?? '');
          this.signal(
            'msnp.sb.call',
            ts,
            [
              ...(this.account ? [{ role: 'SENDER' as const, type: 'EMAIL' as const, value: this.account }] : []),
              ...(invitee ? [{ role: 'RECIPIENT' as const, type: 'EMAIL' as const, value: invitee }] : []),
            ],
            { sessionId: args[2] },
          );
        }
        break;
      case 'JOI':
      case 'IRO': {
        const who = verb === 'JOI' ? (args[0] ?? '') : (args[3] ?? '');
        if (who === '') break;
        this.participants.add(who.toLowerCase());
        this.role = 'switchboard';
        this.signal(verb === 'JOI' ? 'msnp.sb.join' : 'msnp.sb.roster', ts, this.withOther(who), {});
        break;
      }
      case 'BYE':
        if (!fromClient && args[0]) {
          this.participants.delete(args[0].toLowerCase());
          this.signal('msnp.sb.leave', ts, this.withOther(args[0]), {});
        }
        break;
      case 'OUT':
        if (fromClient && !this.signedOut) {
          this.signedOut = true;
          this.signal('msnp.signout', ts, email(this.account ?? ''), {});
        }
        break;
      default:
        if (
          /^\d{3}$/.test(verb) &&
          !fromClient &&
          this.candidate &&
          this.account === null &&
          this.role !== 'switchboard'
        ) {
          // Numeric error while signing in (e.g. 911 authentication failed).
          this.out.emit({
            category: 'LOGIN',
            action: 'msnp.signin.failed',
            tsMicros: ts,
            parties: email(this.candidate),
            attributes: compact({ errorCode: verb, msnpVersion: this.version, result: 'failure' }),
          });
          this.candidate = null;
        }
    }
  }

  private withOther(who: string): Party[] {
    return [...email(this.account ?? ''), { role: 'OTHER', type: 'EMAIL', value: who }];
  }

  private presence(contact: string, status: string, friendly: string | null, ts: number): void {
    if (contact === '') return;
    this.signal(
      'msnp.presence',
      ts,
      [
        { role: 'SENDER', type: 'EMAIL', value: contact },
        ...(this.account ? [{ role: 'RECIPIENT' as const, type: 'EMAIL' as const, value: this.account }] : []),
      ],
      { status, displayName: friendly },
    );
  }

  private usr(fromClient: boolean, args: string[], ts: number): void {
    if (fromClient) {
      const mech = (args[1] ?? '').toUpperCase();
      if ((mech === 'TWN' || mech === 'SSO' || mech === 'MD5') && (args[2] ?? '').toUpperCase() === 'I') {
        this.role = 'notification';
        this.candidate = args[3] ?? null;
      } else if (mech.includes('@')) {
        // Switchboard: "USR TrID passport cookie".
        this.role = 'switchboard';
        this.candidate = args[1] ?? null;
      }
      return;
    }
    if ((args[1] ?? '').toUpperCase() !== 'OK') return;
    const who = args[2] ?? this.candidate ?? '';
    this.account = who || null;
    if (this.role === 'switchboard') {
      this.signal('msnp.sb.session', ts, email(who), {});
      return;
    }
    if (this.role === 'unknown') this.role = 'notification';
    this.out.emit({
      category: 'LOGIN',
      action: 'msnp.signin',
      tsMicros: ts,
      parties: email(who),
      // MSNP8-12: "OK passport friendly verified"; MSNP13+: "OK passport verified 0" (no name).
      attributes: compact({
        msnpVersion: this.version,
        displayName: /^\d$/.test(args[3] ?? '') ? null : safeDecode(args[3]),
        result: 'success',
      }),
    });
  }

  private payload(p: PendingPayload, payload: Buffer, ts: number): void {
    if (p.verb !== 'MSG') return;
    const fromClient = p.direction === 'toServer';
    const sender = fromClient ? (this.account ?? '') : (p.args[0] ?? '');
    const recipients = new Set<string>();
    if (fromClient) for (const x of this.participants) recipients.add(x);
    else {
      if (this.account) recipients.add(this.account);
      for (const x of this.participants) if (x !== sender.toLowerCase()) recipients.add(x);
    }
    const parties: Party[] = [];
    if (sender) parties.push({ role: 'SENDER', type: 'EMAIL', value: sender });
    for (const r of recipients) parties.push({ role: 'RECIPIENT', type: 'EMAIL', value: r });
    const { headers, body } = parseMsgPayload(payload);
    const ctype = headers.get('content-type') ?? '';
    const base = ctype.split(';')[0]?.trim().toLowerCase() ?? '';
    const common = {
      msnpRole: this.role,
      msnpVersion: this.version,
      // Which way the MSG went on the flow: the encoder rebuilds the message's packets for IPCC.
      msnpDirection: p.direction,
      msgContentType: ctype,
      ackType: fromClient ? p.args[1] : null,
      senderDisplayName: fromClient ? null : safeDecode(p.args[1]),
    };
    if (base === 'text/x-msmsgscontrol') {
      this.out.emit({
        category: 'SIGNALS',
        action: 'msnp.typing',
        tsMicros: ts,
        parties,
        attributes: compact({ ...common, typingUser: headers.get('typinguser') }),
      });
      return;
    }
    if (base === 'text/x-msmsgsinvite') {
      // The invitation body is itself "Name: value" lines.
      const fields = parseMsgPayload(Buffer.concat([body, Buffer.from('\r\n\r\n')])).headers;
      const guid = (fields.get('application-guid') ?? '').toUpperCase();
      const app = fields.get('application-name') ?? '';
      const media = MEDIA_GUIDS.has(guid) || /voice|audio|video|webcam|netmeeting/i.test(app);
      const address = fields.get('ip-address');
      const port = Number(fields.get('port') ?? MSNFTP_DEFAULT_PORT);
      const command = (fields.get('invitation-command') ?? '').toUpperCase();
      const cookie = fields.get('invitation-cookie') ?? '';
      if (command === 'INVITE' && cookie) {
        // The ACCEPT names only the cookie: remember what was offered (a few per switchboard).
        if (this.invitations.size >= 64) this.invitations.clear();
        this.invitations.set(cookie, fields);
      }
      if (command === 'ACCEPT' && address && Number.isSafeInteger(port)) {
        // The accepting side names where it listens: follow the peers to that direct connection.
        const offer = this.invitations.get(cookie);
        const field = (name: string) => fields.get(name) ?? offer?.get(name) ?? null;
        this.direct.expect({
          address,
          port,
          parties,
          application: field('application-name') ?? '',
          applicationGuid: (field('application-guid') ?? '').toUpperCase(),
          invitationCookie: cookie || null,
          fileName: field('application-file'),
          fileSize: field('application-filesize'),
        });
      }
      this.out.emit({
        category: media ? 'MEDIA' : 'SIGNALS',
        action: 'msnp.invite',
        tsMicros: ts,
        parties,
        attributes: compact({
          ...common,
          application: app,
          applicationGuid: guid,
          invitationCommand: fields.get('invitation-command'),
          invitationCookie: fields.get('invitation-cookie'),
          fileName: fields.get('application-file'),
          fileSize: fields.get('application-filesize'),
          peerAddress: fields.get('ip-address'),
          peerPort: fields.get('port'),
          cancelCode: fields.get('cancel-code'),
        }),
        content: payload,
        contentType: MSNP_MESSAGE_CONTENT_TYPE,
      });
      return;
    }
    if (!fromClient && sender === 'Hotmail') {
      return; // notification-server housekeeping (profile, mail and MData notices), not communication
    }
    this.out.emit({
      category: 'SIGNALS',
      action: base === 'text/plain' ? 'msnp.msg' : base === 'application/x-msnmsgrp2p' ? 'msnp.p2p' : 'msnp.msg.other',
      tsMicros: ts,
      parties,
      attributes: compact({ ...common, imFormat: headers.get('x-mms-im-format') }),
      content: payload,
      contentType: MSNP_MESSAGE_CONTENT_TYPE,
    });
  }
}

export function msnpDecoderFactory(options: PortOptions = {}): StreamDecoderFactory {
  const ports = options.ports ?? MSNP_DEFAULT_PORTS;
  const direct = new DirectTransfers();
  return (flow, sink) => {
    if (flow.transport !== 'tcp') return null;
    if (ports.includes(flow.serverPort)) return new MsnpDecoder(flow, sink, direct, options.limits);
    // A direct transfer an accepted invitation announced, or one on MSNFTP's default port.
    const expected = direct.take(flow);
    if (expected || flow.serverPort === MSNFTP_DEFAULT_PORT)
      return new MsnFtpDecoder(flow, sink, expected, options.limits);
    return null;
  };
}
