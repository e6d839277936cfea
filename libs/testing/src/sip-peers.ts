// Test peers: SIPp (Debian sip-tester) processes and a small relay that sits between the SIPp
// UAC and UAS and mirrors every byte to the SIP listener, as a carrier SBC mirror would.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface SippResult {
  code: number | null;
  output: string;
}

const children = new Set<ChildProcess>();

/** Runs sipp with args until it exits (or the timeout kills it). */
export function runSipp(args: string[], timeoutMs = 20_000): { done: Promise<SippResult>; child: ChildProcess } {
  const child = spawn('sipp', [...args, '-nostdin', '-timeout', `${Math.ceil(timeoutMs / 1000)}s`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (d) => {
    if (output.length < 200_000) output += d;
  });
  child.stderr?.on('data', (d) => {
    if (output.length < 200_000) output += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 2000);
  const done = new Promise<SippResult>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, output });
    });
  });
  return { done, child };
}

export function killAllSipp(): void {
  for (const c of children) c.kill('SIGKILL');
}

/** A free port on 127.0.0.1 for UDP or TCP (bound then released). */
export async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'tcp') {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const p = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  }
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

export interface Relay {
  port: number;
  close(): Promise<void>;
}

/** UDP relay: uac → relay → uas and back; every datagram is also copied to mirrorPort. */
export async function udpRelay(uasPort: number, mirrorPort: number): Promise<Relay> {
  const sock = createSocket('udp4');
  const mirror = createSocket('udp4');
  let uac: { address: string; port: number } | null = null;
  sock.on('message', (msg, rinfo) => {
    mirror.send(msg, mirrorPort, '127.0.0.1');
    if (rinfo.port === uasPort) {
      if (uac) sock.send(msg, uac.port, uac.address);
    } else {
      uac = { address: rinfo.address, port: rinfo.port };
      sock.send(msg, uasPort, '127.0.0.1');
    }
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => mirror.bind(0, '127.0.0.1', () => r()));
  return {
    port: sock.address().port,
    close: async () => {
      await new Promise<void>((r) => sock.close(() => r()));
      await new Promise<void>((r) => mirror.close(() => r()));
    },
  };
}

/** TCP relay: each uac connection is piped to the uas; each direction is mirrored on its own connection. */
export async function tcpRelay(uasPort: number, mirrorPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    return s;
  };
  const server = createServer((down) => {
    track(down);
    const up = track(connect(uasPort, '127.0.0.1'));
    const mUp = track(connect(mirrorPort, '127.0.0.1'));
    const mDown = track(connect(mirrorPort, '127.0.0.1'));
    down.on('data', (d) => {
      mUp.write(d);
      up.write(d);
    });
    up.on('data', (d) => {
      mDown.write(d);
      down.write(d);
    });
    down.on('end', () => {
      up.end();
      mUp.end();
    });
    up.on('end', () => {
      down.end();
      mDown.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Waits until check() is true or the deadline passes. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
