import { spawn } from 'node:child_process';
import { startPeers, smtpSession, imapSession } from './pipeline/traffic.ts';
import { msnConversation } from '@li/testing/msnp';
const peers = await startPeers();
const file = process.env.OUT!;
const td = spawn('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-n', ...(process.env.EXTRA ?? '').split(' ').filter(Boolean), '-s', '262144', '-w', file, `tcp port ${peers.smtpPort} or tcp port ${peers.imapPort} or tcp port ${peers.msnPort}`], { stdio: 'inherit' });
await new Promise((r) => setTimeout(r, 1500));
for (let i = 0; i < 3; i++) {
  await smtpSession(peers.smtpPort);
  await imapSession(peers.imapPort);
  await msnConversation(peers.msnPort);
  await new Promise((r) => setTimeout(r, 1000));
}
await new Promise((r) => setTimeout(r, 1500));
td.kill('SIGINT');
await new Promise((r) => td.on('exit', r));
console.log(JSON.stringify({ smtp: peers.smtpPort, imap: peers.imapPort, msn: peers.msnPort }));
await peers.stop();
