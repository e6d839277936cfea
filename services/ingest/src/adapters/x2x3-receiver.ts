// X2/X3 receiver (TS 103 221-2 clause 6): the POI connects to us over TCP or TLS (mutual auth
// when a CA is configured). Each connection gets its own framer; keepalives are answered at once
// and never forwarded; malformed PDUs are reported and skipped while framing holds, otherwise
// the connection is closed with the reason.
import net from 'node:net';
import tls from 'node:tls';
import { X2X3Framer } from '../domain/x2x3/framer.ts';
import { keepaliveAck, PDU_TYPE, type X2X3Attributes, type X2X3Pdu } from '../domain/x2x3/pdu.ts';

export interface X2X3Peer {
  address: string;
  port: number;
}

export interface X2X3ReceiverOptions {
  /** Present: TLS with these credentials; requestCert + ca give mutual authentication. */
  tls?: { key: Buffer | string; cert: Buffer | string; ca?: Buffer | string; requestCert?: boolean };
  maxPduBytes?: number;
  /** Close a connection silent for this long (POIs send keepalives every TIME_P1 = 60 s); 0 = never. */
  idleTimeoutMs?: number;
  onPdu(pdu: X2X3Pdu, attrs: X2X3Attributes, peer: X2X3Peer): void;
  onProblem(problem: { code: string; reason: string; fatal: boolean }, peer: X2X3Peer): void;
  /** Called with the number of keepalives answered, for liveness metrics. */
  onKeepalive?(peer: X2X3Peer): void;
}

export interface X2X3Receiver {
  server: net.Server;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export function createX2X3Receiver(options: X2X3ReceiverOptions): X2X3Receiver {
  const sockets = new Set<net.Socket>();
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
          socket.write(keepaliveAck(ev.pdu));
          options.onKeepalive?.(peer);
          continue;
        }
        if (ev.pdu.pduType === PDU_TYPE.KEEPALIVE_ACK) continue;
        options.onPdu(ev.pdu, ev.attrs, peer);
      }
    });
    socket.on('error', (err) =>
      options.onProblem({ code: 'ING_ERR_X2X3_SOCKET', reason: err.message, fatal: true }, peer),
    );
    socket.on('close', () => sockets.delete(socket));
  };
  const server = options.tls
    ? tls.createServer(
        {
          key: options.tls.key,
          cert: options.tls.cert,
          ca: options.tls.ca,
          requestCert: options.tls.requestCert ?? options.tls.ca !== undefined,
          rejectUnauthorized: options.tls.requestCert ?? options.tls.ca !== undefined,
        },
        handle,
      )
    : net.createServer(handle);
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
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
