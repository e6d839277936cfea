// X2/X3 receiver (TS 103 221-2 clause 6): the POI connects to us over TCP or TLS. TLS means
// mutual TLS: without a client CA the receiver refuses to start unless told the deployment
// accepts any client. Each connection gets its own framer; keepalives are answered at once and
// never forwarded; malformed PDUs are reported and skipped while framing holds, otherwise the
// connection is closed with the reason. A hostile peer costs a bounded share: connections are
// capped, silent ones time out, PDUs have a size bound, and a peer that does not read our
// keepalive answers is closed before they pile up.
import net from 'node:net';
import tls from 'node:tls';
import { X2X3Framer } from '../domain/x2x3/framer.ts';
import { keepaliveAck, PDU_TYPE, type X2X3Attributes, type X2X3Pdu } from '../domain/x2x3/pdu.ts';
import { ING, type IngestErrorCode } from '../errors.ts';

interface X2X3Peer {
  address: string;
  port: number;
}

export interface X2X3ReceiverOptions {
  /**
   * Present: TLS with these credentials. Clients must present a certificate from `ca`; without
   * `ca` the receiver throws unless `allowNoClientCert` says any client may connect.
   */
  tls?: { key: Buffer | string; cert: Buffer | string; ca?: Buffer | string; allowNoClientCert?: boolean };
  maxPduBytes?: number;
  /** Close a connection silent for this long (POIs send keepalives every TIME_P1 = 60 s); 0 = never. */
  idleTimeoutMs?: number;
  /** Connections open at once; further ones are closed at accept and reported to onConnectionRefused. */
  maxConnections?: number;
  /** Octets of our answers a peer may leave unread before we close the connection. */
  maxUnreadReplyBytes?: number;
  onPdu(pdu: X2X3Pdu, attrs: X2X3Attributes, peer: X2X3Peer): void;
  onProblem(problem: { code: IngestErrorCode; reason: string; fatal: boolean }, peer: X2X3Peer): void;
  /** Called with the number of keepalives answered, for liveness metrics. */
  onKeepalive?(peer: X2X3Peer): void;
  /** A connection was closed at accept because maxConnections were open. */
  onConnectionRefused?(peer: X2X3Peer): void;
  /**
   * False: PDUs would be dropped (Kafka away, spool nearly full). Connections stop being read
   * (TCP back-pressure: the POI keeps its PDUs) until it is true again, checked every resumeCheckMs.
   */
  accepting?(): boolean;
  /** Default 500 ms. */
  resumeCheckMs?: number;
  /**
   * Given (spool fsync 'always'): a keepalive is acknowledged only once every PDU read before it
   * is in Kafka or synced in the spool. X2/X3 has no acknowledgement of product PDUs (TS 103
   * 221-2), so the keepalive Ack is the one answer that can vouch for them.
   */
  durable?(): Promise<void>;
}

export const DEFAULT_MAX_CONNECTIONS = 64;
/** 5000 keepalive answers (48 octets each): far more than a live peer ever leaves unread. */
export const DEFAULT_MAX_UNREAD_REPLY_BYTES = 256 * 1024;

export interface X2X3Receiver {
  server: net.Server;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export function createX2X3Receiver(options: X2X3ReceiverOptions): X2X3Receiver {
  if (options.tls && options.tls.ca === undefined && !options.tls.allowNoClientCert) {
    const code = 'ING_ERR_X2X3_TLS_NO_CLIENT_CA';
    // The code leads the message: runService prints only the message when start fails.
    throw new Error(
      `${code}: ${ING.table[code].message}; ` +
        'configure x2x3.tlsCaFile, or set x2x3.tlsAllowNoClientCert to accept clients without a certificate',
    );
  }
  const maxUnread = options.maxUnreadReplyBytes ?? DEFAULT_MAX_UNREAD_REPLY_BYTES;
  const sockets = new Set<net.Socket>();
  // Back-pressure: sockets not read while the publisher cannot take more, and the timer that resumes them.
  const paused = new Set<net.Socket>();
  let resumeTimer: NodeJS.Timeout | undefined;
  const resumeWhenAccepting = () => {
    if (!options.accepting?.()) return;
    for (const s of paused) {
      s.resume();
      if (options.idleTimeoutMs) s.setTimeout(options.idleTimeoutMs);
    }
    paused.clear();
    clearInterval(resumeTimer);
    resumeTimer = undefined;
  };
  const holdOff = (socket: net.Socket) => {
    if (paused.has(socket)) return;
    paused.add(socket);
    socket.pause();
    // Silence is ours while paused, not the peer's.
    socket.setTimeout(0);
    resumeTimer ??= setInterval(resumeWhenAccepting, options.resumeCheckMs ?? 500).unref();
  };
  const handle = (socket: net.Socket): void => {
    sockets.add(socket);
    const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const framer = new X2X3Framer(options.maxPduBytes);
    if (options.idleTimeoutMs) {
      socket.setTimeout(options.idleTimeoutMs, () => {
        options.onProblem(
          { code: 'ING_ERR_X2X3_IDLE', reason: 'no PDU or keepalive within the idle timeout', fatal: true },
          peer,
        );
        socket.destroy();
      });
    }
    socket.on('data', (chunk: Buffer) => {
      for (const ev of framer.push(chunk)) {
        if (ev.kind === 'problem') {
          options.onProblem({ code: ev.code, reason: ev.reason, fatal: ev.fatal }, peer);
          if (ev.fatal) socket.destroy();
          continue;
        }
        if (ev.pdu.pduType === PDU_TYPE.KEEPALIVE) {
          // A peer that sends keepalives but never reads would make us queue answers forever.
          if (socket.writableLength > maxUnread) {
            options.onProblem(
              {
                code: 'ING_ERR_X2X3_SLOW_READER',
                reason: `peer left ${socket.writableLength} octets of keepalive answers unread`,
                fatal: true,
              },
              peer,
            );
            socket.destroy();
            return;
          }
          const ack = keepaliveAck(ev.pdu);
          if (!options.durable) socket.write(ack);
          else {
            options.durable().then(
              () => {
                if (!socket.destroyed) socket.write(ack);
              },
              // no Ack: the POI's keepalive timer notices and reports over X1
              () =>
                options.onProblem(
                  { code: 'ING_ERR_SPOOL_IO', reason: 'keepalive not acknowledged', fatal: false },
                  peer,
                ),
            );
          }
          options.onKeepalive?.(peer);
          continue;
        }
        if (ev.pdu.pduType === PDU_TYPE.KEEPALIVE_ACK) continue;
        options.onPdu(ev.pdu, ev.attrs, peer);
      }
      if (options.accepting && !options.accepting()) holdOff(socket);
    });
    socket.on('error', (err) =>
      options.onProblem({ code: 'ING_ERR_X2X3_SOCKET', reason: err.message, fatal: true }, peer),
    );
    socket.on('close', () => {
      sockets.delete(socket);
      paused.delete(socket);
    });
  };
  const server = options.tls
    ? tls.createServer(
        {
          key: options.tls.key,
          cert: options.tls.cert,
          ca: options.tls.ca,
          requestCert: options.tls.ca !== undefined,
          rejectUnauthorized: options.tls.ca !== undefined,
        },
        handle,
      )
    : net.createServer(handle);
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  server.on('drop', (d) =>
    options.onConnectionRefused?.({ address: d?.remoteAddress ?? '', port: d?.remotePort ?? 0 }),
  );
  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    close() {
      clearInterval(resumeTimer);
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
