// A Diameter client peer over TCP (RFC 6733 §5): CER/CEA, DWR/DWA watchdog (RFC 3539),
// DPR/DPA, and request/answer matching by Hop-by-Hop id, for ACR/ACA to a CDF or CDS.
import { randomInt } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Avp, DiameterHeader, DiameterMessage } from './codec.ts';
import {
  asU32,
  avp,
  decodeHeader,
  decodeMessage,
  encodeMessage,
  FLAG_E,
  FLAG_R,
  FramingError,
  findAvp,
  MessageFramer,
  VENDOR_3GPP,
} from './codec.ts';
import { APP_BASE_ACCOUNTING, BASE, CMD, groupedPredicate, RESULT } from './dictionary.ts';

export interface PeerConfig {
  host: string;
  port: number;
  originHost: string;
  originRealm: string;
  /** Our address as advertised in CER Host-IP-Address. */
  hostIp: string;
  productName: string;
  /** Vendor-Id in CER (0 = none registered). */
  vendorId: number;
  privateVendorId: number | null;
  /** Tw: idle time before a DWR (RFC 3539 §3.4.1 default 30 s). */
  watchdogMs: number;
  /** Tx: how long to wait for an answer. */
  answerTimeoutMs: number;
  connectTimeoutMs: number;
  /** Longest message accepted from the peer; a longer one closes the connection. Default 64 KiB. */
  maxMessageBytes?: number;
}

type PeerErrorCode =
  | 'MCD_ERR_DIAMETER_CONNECT'
  | 'MCD_ERR_DIAMETER_CEA'
  | 'MCD_ERR_DIAMETER_TIMEOUT'
  | 'MCD_ERR_DIAMETER_CLOSED'
  | 'MCD_ERR_DIAMETER_DECODE';

export class PeerError extends Error {
  readonly code: PeerErrorCode;
  constructor(code: PeerErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

interface Pending {
  resolve: (m: DiameterMessage) => void;
  reject: (e: PeerError) => void;
  timer: NodeJS.Timeout;
}

interface AnswerSummary {
  resultCode: number | undefined;
  answer: DiameterMessage;
}

export class DiameterPeer {
  readonly config: PeerConfig;
  private socket: Socket | null = null;
  private readonly framer: MessageFramer;
  private readonly pending = new Map<number, Pending>();
  private readonly isGrouped;
  private hopByHop = randomInt(0, 2 ** 31);
  private endToEnd: number;
  private watchdog: NodeJS.Timeout | null = null;
  private readonly originStateId = Math.floor(Date.now() / 1000);
  /** Peer's Origin-Host from the CEA. */
  remoteHost = '';
  state: 'closed' | 'connecting' | 'open' | 'closing' = 'closed';
  /** Watchdog round trips measured, for metrics. */
  lastWatchdogRttMs: number | null = null;
  /** DWRs the remote peer sent us and we answered. */
  watchdogsAnswered = 0;
  /** DPRs the remote peer sent us and we answered with DPA. */
  disconnectsAnswered = 0;
  onClose: ((reason: string) => void) | null = null;
  onWatchdog: ((rttMs: number) => void) | null = null;
  /** A message from the peer that could not be read (answered, failed or the link closed). */
  onProblem: ((code: PeerErrorCode, reason: string) => void) | null = null;

  constructor(config: PeerConfig) {
    this.config = config;
    this.isGrouped = groupedPredicate(config.privateVendorId);
    this.framer = new MessageFramer(config.maxMessageBytes);
    // End-to-End: high 12 bits from the clock, low 20 random (RFC 6733 §3).
    this.endToEnd = ((Math.floor(Date.now() / 1000) & 0xfff) << 20) | randomInt(0, 2 ** 20);
  }

  /** Opens TCP and performs the capabilities exchange; resolves once the CEA says 2001. */
  async open(): Promise<void> {
    this.state = 'connecting';
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: this.config.host, port: this.config.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new PeerError('MCD_ERR_DIAMETER_CONNECT', 'connect timeout'));
      }, this.config.connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new PeerError('MCD_ERR_DIAMETER_CONNECT', e.message));
      });
    });
    sock.setNoDelay(true);
    this.socket = sock;
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', () => {});
    sock.on('close', () => this.closed('connection closed'));
    let cea: DiameterMessage;
    try {
      cea = await this.request(CMD.CAPABILITIES_EXCHANGE, 0, this.cerAvps());
    } catch (e) {
      sock.destroy();
      throw e;
    }
    const rc = asU32(findAvp(cea.avps, BASE.RESULT_CODE));
    if (rc !== RESULT.SUCCESS) {
      sock.destroy();
      throw new PeerError('MCD_ERR_DIAMETER_CEA', `CEA Result-Code ${rc}`);
    }
    this.remoteHost = findAvp(cea.avps, BASE.ORIGIN_HOST)?.data.toString() ?? '';
    this.state = 'open';
    this.armWatchdog();
  }

  private cerAvps(): Avp[] {
    return [
      avp.utf8(BASE.ORIGIN_HOST, this.config.originHost),
      avp.utf8(BASE.ORIGIN_REALM, this.config.originRealm),
      avp.address(BASE.HOST_IP_ADDRESS, this.config.hostIp),
      avp.u32(BASE.VENDOR_ID, this.config.vendorId),
      avp.utf8(BASE.PRODUCT_NAME, this.config.productName, { m: false }),
      avp.u32(BASE.ORIGIN_STATE_ID, this.originStateId),
      avp.u32(BASE.SUPPORTED_VENDOR_ID, VENDOR_3GPP),
      avp.u32(BASE.ACCT_APPLICATION_ID, APP_BASE_ACCOUNTING),
      avp.u32(BASE.FIRMWARE_REVISION, 1, { m: false }),
    ];
  }

  /** Sends an accounting request (the AVPs from buildAcrAvps) and waits for the ACA. */
  async account(avps: Avp[]): Promise<AnswerSummary> {
    if (this.state !== 'open') throw new PeerError('MCD_ERR_DIAMETER_CLOSED', `peer is ${this.state}`);
    const answer = await this.request(CMD.ACCOUNTING, APP_BASE_ACCOUNTING, avps);
    return { resultCode: asU32(findAvp(answer.avps, BASE.RESULT_CODE)), answer };
  }

  /** Sends a DWR now; resolves with the round trip in ms. */
  async watchdogNow(): Promise<number> {
    const t0 = performance.now();
    await this.request(CMD.DEVICE_WATCHDOG, 0, [
      avp.utf8(BASE.ORIGIN_HOST, this.config.originHost),
      avp.utf8(BASE.ORIGIN_REALM, this.config.originRealm),
      avp.u32(BASE.ORIGIN_STATE_ID, this.originStateId),
    ]);
    this.lastWatchdogRttMs = performance.now() - t0;
    this.onWatchdog?.(this.lastWatchdogRttMs);
    return this.lastWatchdogRttMs;
  }

  /** Orderly close: DPR (Disconnect-Cause REBOOTING 0), wait for DPA, then end TCP. */
  async close(): Promise<void> {
    if (this.state !== 'open') {
      this.socket?.destroy();
      return;
    }
    this.state = 'closing';
    try {
      await this.request(CMD.DISCONNECT_PEER, 0, [
        avp.utf8(BASE.ORIGIN_HOST, this.config.originHost),
        avp.utf8(BASE.ORIGIN_REALM, this.config.originRealm),
        avp.i32(BASE.DISCONNECT_CAUSE, 0),
      ]);
    } finally {
      this.socket?.end();
      this.closed('disconnected');
    }
  }

  private request(commandCode: number, applicationId: number, avps: Avp[]): Promise<DiameterMessage> {
    const sock = this.socket;
    if (!sock) return Promise.reject(new PeerError('MCD_ERR_DIAMETER_CLOSED', 'not connected'));
    this.hopByHop = (this.hopByHop + 1) >>> 0;
    this.endToEnd = (this.endToEnd + 1) >>> 0;
    const hbh = this.hopByHop;
    const bytes = encodeMessage({
      flags: FLAG_R,
      commandCode,
      applicationId,
      hopByHop: hbh,
      endToEnd: this.endToEnd,
      avps,
    });
    if (commandCode === CMD.ACCOUNTING) bytes[4] = bytes[4]! | 0x40; // ACR is proxiable
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(hbh);
        reject(new PeerError('MCD_ERR_DIAMETER_TIMEOUT', `no answer to command ${commandCode}`));
      }, this.config.answerTimeoutMs);
      this.pending.set(hbh, { resolve, reject, timer });
      sock.write(bytes);
      this.armWatchdog();
    });
  }

  private onData(chunk: Buffer): void {
    try {
      const frames = this.framer.push(chunk);
      this.armWatchdog();
      for (const f of frames) this.onFrame(f);
    } catch (e) {
      // The stream cannot be resynchronised (or a bug): drop this connection, never the process.
      const reason = e instanceof FramingError ? e.message : 'unexpected failure reading a message';
      this.onProblem?.('MCD_ERR_DIAMETER_DECODE', reason);
      this.closed(reason);
    }
  }

  private onFrame(f: Buffer): void {
    const m = decodeMessage(f, this.isGrouped);
    if (!m.ok) {
      this.onProblem?.('MCD_ERR_DIAMETER_DECODE', m.reason);
      const header = decodeHeader(f)!; // the framer passes only messages of 20 bytes or more
      // A request is answered with the RFC 6733 §7.1 code; an answer fails the request it answers.
      if (header.flags & FLAG_R) this.writeAnswer(header, m.resultCode, []);
      else this.settle(header.hopByHop, new PeerError('MCD_ERR_DIAMETER_DECODE', m.reason));
      return;
    }
    const msg = m.value;
    if (msg.flags & FLAG_R) this.answerRequest(msg);
    else this.settle(msg.hopByHop, msg);
  }

  private settle(hopByHop: number, outcome: DiameterMessage | PeerError): void {
    const p = this.pending.get(hopByHop);
    if (!p) return;
    this.pending.delete(hopByHop);
    clearTimeout(p.timer);
    if (outcome instanceof PeerError) p.reject(outcome);
    else p.resolve(outcome);
  }

  /** Session-Id, when the request had one, goes first (RFC 6733 §8.8). */
  private writeAnswer(req: DiameterHeader, resultCode: number, extra: Avp[], flags = 0, sessionId?: Avp): void {
    this.socket?.write(
      encodeMessage({
        flags: flags | (req.flags & 0x40),
        commandCode: req.commandCode,
        applicationId: req.applicationId,
        hopByHop: req.hopByHop,
        endToEnd: req.endToEnd,
        avps: [
          ...(sessionId ? [sessionId] : []),
          avp.u32(BASE.RESULT_CODE, resultCode),
          avp.utf8(BASE.ORIGIN_HOST, this.config.originHost),
          avp.utf8(BASE.ORIGIN_REALM, this.config.originRealm),
          ...extra,
        ],
      }),
    );
  }

  /** Answers the peer's DWR and DPR (RFC 6733 §5.5, §5.4); other requests get 3001 UNABLE_TO_SUPPORT. */
  private answerRequest(req: DiameterMessage): void {
    const sessionId = findAvp(req.avps, BASE.SESSION_ID);
    if (req.commandCode === CMD.DEVICE_WATCHDOG) {
      this.writeAnswer(req, RESULT.SUCCESS, [avp.u32(BASE.ORIGIN_STATE_ID, this.originStateId)], 0, sessionId);
      this.watchdogsAnswered += 1;
    } else if (req.commandCode === CMD.DISCONNECT_PEER) {
      this.writeAnswer(req, RESULT.SUCCESS, [], 0, sessionId);
      this.disconnectsAnswered += 1;
      this.state = 'closing';
      setTimeout(() => this.socket?.end(), 50).unref();
    } else {
      this.writeAnswer(req, 3001, [], FLAG_E, sessionId);
    }
  }

  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.state !== 'open') return;
    this.watchdog = setTimeout(() => {
      this.watchdogNow().catch(() => this.socket?.destroy()); // no DWA within Tx: the connection is down
    }, this.config.watchdogMs);
    this.watchdog.unref();
  }

  private closed(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.watchdog) clearTimeout(this.watchdog);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new PeerError('MCD_ERR_DIAMETER_CLOSED', reason));
    }
    this.pending.clear();
    this.socket?.destroy();
    this.onClose?.(reason);
  }
}
