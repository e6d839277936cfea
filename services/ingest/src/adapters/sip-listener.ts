// Receives mirrored SIP on UDP and TCP (an SBC or proxy copying its signalling to us) and
// decodes it. Each TCP connection is one stream framed by Content-Length; each datagram is one
// message. Events and problems go to callbacks; publishing is wired by the service.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { createSipStreamDecoder, sipDatagramHandler } from '../domain/sip/decoder.ts';
import type { DecodedEvent, DecodeProblem, DecoderSink } from '../domain/stream.ts';

export interface SipListenerOptions {
  host: string;
  /** UDP port to bind (0 = ephemeral); omit to not listen on UDP. */
  udpPort?: number;
  /** TCP port to bind (0 = ephemeral); omit to not listen on TCP. */
  tcpPort?: number;
  maxConnections?: number;
  /** Idle TCP connections are closed after this long. */
  idleTimeoutMs?: number;
  onEvent: (event: DecodedEvent) => void;
  onProblem: (problem: DecodeProblem) => void;
}

export interface SipListener {
  udpPort: number | null;
  tcpPort: number | null;
  close(): Promise<void>;
}

/** Wall-clock microseconds (Date.now() alone has millisecond resolution). */
const now = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
/** A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; events carry the plain IPv4 form. */
const plain = (a: string | undefined) => (a?.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : (a ?? ''));

export async function startSipListener(opts: SipListenerOptions): Promise<SipListener> {
  const sink: DecoderSink = { event: opts.onEvent, problem: opts.onProblem };
  let udp: UdpSocket | null = null;
  let tcp: Server | null = null;
  const sockets = new Set<Socket>();

  if (opts.udpPort !== undefined) {
    const s = createSocket(isIPv6(opts.host) ? 'udp6' : 'udp4');
    udp = s;
    // Everything received here is SIP by configuration, so every port counts as a SIP port.
    const handle = sipDatagramHandler(sink, { has: () => true });
    s.on('message', (msg, rinfo) => {
      const local = s.address();
      handle({
        tsMicros: now(),
        network: {
          transport: 'udp',
          srcAddress: plain(rinfo.address),
          srcPort: rinfo.port,
          dstAddress: plain(local.address),
          dstPort: local.port,
        },
        payload: msg,
      });
    });
    s.on('error', () => opts.onProblem({ code: 'ING_ERR_SIP_SOCKET', reason: 'UDP socket error' }));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(opts.udpPort, opts.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
  }

  if (opts.tcpPort !== undefined) {
    const server = createServer((sock) => {
      sockets.add(sock);
      const decoder = createSipStreamDecoder(
        {
          transport: 'tcp',
          clientAddress: plain(sock.remoteAddress),
          clientPort: sock.remotePort ?? 0,
          serverAddress: plain(sock.localAddress),
          serverPort: sock.localPort ?? 0,
        },
        sink,
      );
      sock.setTimeout(opts.idleTimeoutMs ?? 300_000, () => sock.destroy());
      sock.on('data', (b: Buffer) => decoder.data('toServer', b, now()));
      sock.on('error', () => {});
      sock.on('close', () => {
        sockets.delete(sock);
        decoder.end(now());
      });
    });
    server.maxConnections = opts.maxConnections ?? 1024;
    tcp = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.tcpPort, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  const tcpAddr = tcp?.address();
  return {
    udpPort: udp ? udp.address().port : null,
    tcpPort: tcpAddr && typeof tcpAddr === 'object' ? tcpAddr.port : null,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([
        udp ? new Promise<void>((r) => udp.close(() => r())) : Promise.resolve(),
        tcp ? new Promise<void>((r) => tcp.close(() => r())) : Promise.resolve(),
      ]);
    },
  };
}
