// MSN direct transfers (seed 002): a file (MSNFTP) or voice invitation accepted on a switchboard
// names the address and port (default 6891) the peers then connect to directly. The switchboard
// decoder records each accepted invitation here; the factory hands the matching TCP connection
// to MsnFtpDecoder, which reports the transfer with the switchboard's parties and the file bytes
// as content. MSNFTP: the connecting side sends "VER MSNFTP", "USR passport cookie", then "TFR"
// after the listener's "FIL size"; the listener sends the file in blocks of a 0 byte, a 16-bit
// little-endian length and that many octets (a first byte 1 cancels); the receiver ends with BYE.
import type { Party } from '@li/schemas';
import { ByteQueue, compact, DEFAULT_LIMITS, GuardedDecoder, type TextDecoderLimits } from '../mail/common.ts';
import type { DecoderSink, Direction, FlowEndpoints } from '../stream.ts';

export const MSNFTP_DEFAULT_PORT = 6891;
/** Accepted invitations remembered at most (the oldest is forgotten first). */
const MAX_EXPECTED = 1024;
/** Octets gathered before a content event is written. */
const CHUNK_BYTES = 64 * 1024;
/**
 * The content type of MSNP octets as captured on the flow: the encoder rebuilds their TCP/IP
 * packets as IPCC (iri-encoder packet.ts), for the direct connection as for a switchboard MSG.
 */
const MSNP_WIRE_CONTENT_TYPE = 'application/x-msnp-msg';

export interface ExpectedTransfer {
  address: string;
  port: number;
  /** The switchboard MSG's sender and recipients: whoever of them is a target is intercepted. */
  parties: Party[];
  application: string;
  applicationGuid: string;
  invitationCookie: string | null;
  fileName: string | null;
  fileSize: string | null;
}

/** Accepted invitations by "address port", shared by the decoders one factory makes. */
export class DirectTransfers {
  readonly #byEndpoint = new Map<string, ExpectedTransfer>();

  expect(t: ExpectedTransfer): void {
    const key = `${t.address} ${t.port}`;
    this.#byEndpoint.delete(key);
    this.#byEndpoint.set(key, t);
    if (this.#byEndpoint.size > MAX_EXPECTED) {
      const oldest = this.#byEndpoint.keys().next().value;
      if (oldest !== undefined) this.#byEndpoint.delete(oldest);
    }
  }

  /** The invitation that announced this connection's listener (consumed: one connection each). */
  take(flow: FlowEndpoints): ExpectedTransfer | null {
    const key = `${flow.serverAddress} ${flow.serverPort}`;
    const t = this.#byEndpoint.get(key) ?? null;
    if (t) this.#byEndpoint.delete(key);
    return t;
  }
}

type State = 'commands' | 'blocks' | 'opaque';

/** One direct connection: MSNFTP when it starts with "VER MSNFTP", else opaque bytes (voice). */
export class MsnFtpDecoder extends GuardedDecoder {
  readonly #q: Record<Direction, ByteQueue>;
  readonly #expected: ExpectedTransfer | null;
  #state: State = 'commands';
  #account: string | null = null;
  #announced: number | null = null;
  #received = 0;
  #chunk: Buffer[] = [];
  #chunkBytes = 0;
  #chunkDirection: Direction = 'toClient';
  #blockLeft = 0;
  #started = false;
  #ended = false;
  #outcome: string | null = null;

  constructor(flow: FlowEndpoints, sink: DecoderSink, expected: ExpectedTransfer | null, limits = DEFAULT_LIMITS) {
    super('msnp', flow, sink);
    const l: TextDecoderLimits = limits;
    this.#q = { toServer: new ByteQueue(l.maxLineBytes), toClient: new ByteQueue(l.maxLineBytes) };
    this.#expected = expected;
  }

  protected step(direction: Direction, bytes: Buffer, ts: number): void {
    if ((this.#state as State) === 'opaque') {
      this.#keep(bytes, ts, direction);
      return;
    }
    const q = this.#q[direction];
    q.push(bytes);
    // File blocks come from the listener (server side of the flow) once TFR was sent.
    if (this.#state === 'blocks' && direction === 'toClient') {
      this.#keep(bytes, ts, direction);
      this.#blocks(q);
      return;
    }
    for (;;) {
      const line = q.nextLine();
      if (line === null) return;
      if (line.kind === 'overlong') {
        if (!this.#started && this.#expected) {
          // Not MSNFTP (a voice or other direct session): keep it and what follows as opaque content.
          this.#opaque(ts);
          q.clear();
          this.#keep(bytes, ts, direction);
          return;
        }
        this.out.problem('ING_ERR_LINE_TOO_LONG', `msnp: direct ${direction} line of ${line.length} octets skipped`);
        return;
      }
      const [verb = '', ...args] = line.text.split(' ').filter((w) => w !== '');
      this.#command(direction, verb.toUpperCase(), args, ts);
      if ((this.#state as State) === 'opaque') {
        // Not MSNFTP: this segment (and what follows) is the session's content as captured.
        this.#q[direction].clear();
        this.#keep(bytes, ts, direction);
        return;
      }
      if (this.#state === 'blocks' && direction === 'toClient') {
        // The rest of this segment is already blocks.
        const rest = q.take(q.length);
        this.#keep(rest, ts, direction);
        q.push(rest);
        this.#blocks(q);
        return;
      }
    }
  }

  #command(direction: Direction, verb: string, args: string[], ts: number): void {
    const fromReceiver = direction === 'toServer';
    switch (verb) {
      case 'VER':
        if (fromReceiver && !args.some((a) => a.toUpperCase() === 'MSNFTP')) this.#opaque(ts);
        break;
      case 'USR':
        // "USR passport cookie": the receiver's account; the cookie stays out of events.
        if (fromReceiver) this.#account = args[0] ?? null;
        break;
      case 'FIL': {
        const n = Number(args[0]);
        this.#announced = Number.isSafeInteger(n) && n >= 0 ? n : null;
        this.#start(ts);
        break;
      }
      case 'TFR':
        if (fromReceiver) this.#state = 'blocks';
        break;
      case 'BYE':
        this.#outcome = args[0] ?? null;
        break;
      case 'CCL':
        this.#outcome = 'cancelled';
        break;
      default:
        if (!this.#started && verb !== '') this.#opaque(ts);
    }
  }

  #opaque(ts: number): void {
    this.#state = 'opaque';
    this.#start(ts);
  }

  #blocks(q: ByteQueue): void {
    for (;;) {
      if (this.#blockLeft > 0) {
        const part = q.take(this.#blockLeft);
        if (part.length === 0) return;
        this.#blockLeft -= part.length;
        this.#received += part.length;
        continue;
      }
      if (q.length < 3) return;
      const head = q.take(3);
      if (head[0] !== 0) {
        // 1: the sender cancelled; anything else is not MSNFTP any more.
        this.#outcome = head[0] === 1 ? 'cancelled' : 'desync';
        this.#state = 'opaque';
        return;
      }
      this.#blockLeft = head.readUInt16LE(1);
    }
  }

  #parties(): Party[] {
    if (this.#expected) return this.#expected.parties;
    return this.#account ? [{ role: 'RECIPIENT', type: 'EMAIL', value: this.#account }] : [];
  }

  #attributes(): Record<string, string> {
    const e = this.#expected;
    return compact({
      application: e?.application,
      applicationGuid: e?.applicationGuid,
      invitationCookie: e?.invitationCookie,
      fileName: e?.fileName,
      fileSize: this.#announced !== null ? String(this.#announced) : e?.fileSize,
      transferProtocol: this.#state === 'opaque' ? 'direct' : 'msnftp',
    });
  }

  #start(ts: number): void {
    if (this.#started) return;
    this.#started = true;
    this.out.emit({
      category: 'SIGNALS',
      action: 'msnp.ft.start',
      tsMicros: ts,
      parties: this.#parties(),
      attributes: this.#attributes(),
    });
  }

  /** Content is the octets on the wire, per direction, so the encoder can rebuild the packets (IPCC). */
  #keep(bytes: Buffer, ts: number, direction: Direction): void {
    if (bytes.length === 0) return;
    if (this.#chunkBytes > 0 && this.#chunkDirection !== direction) this.#flush(ts);
    this.#chunkDirection = direction;
    this.#chunk.push(bytes);
    this.#chunkBytes += bytes.length;
    if (this.#chunkBytes >= CHUNK_BYTES) this.#flush(ts);
  }

  #flush(ts: number): void {
    if (this.#chunkBytes === 0) return;
    const content = Buffer.concat(this.#chunk);
    this.#chunk = [];
    this.#chunkBytes = 0;
    this.out.emit({
      category: 'SIGNALS',
      action: 'msnp.ft.data',
      tsMicros: ts,
      parties: this.#parties(),
      attributes: { ...this.#attributes(), msnpDirection: this.#chunkDirection },
      content,
      contentType: MSNP_WIRE_CONTENT_TYPE,
    });
  }

  gap(direction: Direction, length: number, _ts: number): void {
    this.out.problem('ING_ERR_STREAM_GAP', `msnp: direct ${length} octets missing (${direction})`);
    if (this.#state === 'blocks' && direction === 'toClient' && length <= this.#blockLeft) {
      // The missing octets were file data: skip them; the end then says the transfer is incomplete.
      this.#blockLeft -= length;
      return;
    }
    this.#q[direction].clear();
    if (this.#state === 'blocks') this.#state = 'opaque';
  }

  end(ts: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#flush(ts);
    if (!this.#started) return;
    const complete = this.#announced !== null && this.#received >= this.#announced;
    this.out.emit({
      category: 'SIGNALS',
      action: 'msnp.ft.end',
      tsMicros: ts,
      parties: this.#parties(),
      attributes: compact({
        ...this.#attributes(),
        receivedBytes: String(this.#received),
        result: this.#outcome === 'cancelled' ? 'cancelled' : complete ? 'complete' : 'incomplete',
      }),
    });
  }

  bufferedBytes(): number {
    return this.#q.toServer.length + this.#q.toClient.length + this.#chunkBytes;
  }
}
