// The live capture keeps a burst that arrives while ingest is busy: tcpdump then waits for ingest
// to read its pipe, and the kernel's ring must hold the packets meanwhile. With libpcap's default
// buffer (2 MiB, some 16 loopback slots) most of such a burst was lost, which the demo's traffic
// showed as ING_ERR_STREAM_GAP dead letters; ingest asks for 32 MiB (capture.bufferBytes).
import { spawn } from 'node:child_process';
import { waitFor } from '@li/testing';
import { freePort } from '@li/testing/peers';
import { describe, expect, it } from 'vitest';
import { startTcpdump } from '../src/adapters/tcpdump.ts';

const DATAGRAMS = 200;
const BUSY_MS = 2000;

describe('live capture through tcpdump', () => {
  it(`keeps all of ${DATAGRAMS} datagrams sent while the reader is busy for ${BUSY_MS / 1000} s`, async () => {
    const port = await freePort();
    let captured = 0;
    const capture = startTcpdump({
      interface: 'lo',
      filter: `udp dst port ${port}`,
      onPacket: () => {
        captured++;
      },
    });
    try {
      await capture.ready;
      // Another process sends the burst (nobody listens; the datagrams are only captured).
      const sender = spawn(
        process.execPath,
        [
          '-e',
          `const s = require('node:dgram').createSocket('udp4'); const b = Buffer.alloc(200, 1); let i = 0;
           (function send() { if (i++ >= ${DATAGRAMS}) return s.close(); s.send(b, ${port}, '127.0.0.1', send); })();`,
        ],
        { stdio: 'ignore' },
      );
      const exited = new Promise((resolve) => sender.on('exit', resolve));
      const until = Date.now() + BUSY_MS;
      while (Date.now() < until) {
        // busy: nothing reads tcpdump's pipe, as when the event loop is loaded
      }
      expect(await exited).toBe(0);
      await waitFor(() => captured >= DATAGRAMS, {
        timeoutMs: 15_000,
        intervalMs: 100,
        what: `all ${DATAGRAMS} datagrams captured`,
      }).catch(() => undefined);
      console.log(`captured ${captured} of ${DATAGRAMS} datagrams`);
      expect(captured).toBe(DATAGRAMS);
    } finally {
      capture.stop();
      await capture.done;
    }
  }, 60_000);
});
