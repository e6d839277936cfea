// The mail decoders (SMTP, POP3, IMAP) for the capture pipeline, each choosing flows by server port.
import type { StreamDecoderFactory } from '../stream.ts';
import type { TextDecoderLimits } from './common.ts';
import { IMAP_DEFAULT_PORTS, imapDecoderFactory } from './imap.ts';
import { POP3_DEFAULT_PORTS, pop3DecoderFactory } from './pop3.ts';
import { SMTP_DEFAULT_PORTS, smtpDecoderFactory } from './smtp.ts';

export interface MailPorts {
  smtp?: readonly number[];
  pop3?: readonly number[];
  imap?: readonly number[];
  limits?: TextDecoderLimits;
}

/** The three mail decoders, each choosing flows by server port (defaults: 25/587/2525, 110, 143). */
export function mailDecoderFactories(ports: MailPorts = {}): StreamDecoderFactory[] {
  return [
    smtpDecoderFactory({ ports: ports.smtp ?? SMTP_DEFAULT_PORTS, limits: ports.limits }),
    pop3DecoderFactory({ ports: ports.pop3 ?? POP3_DEFAULT_PORTS, limits: ports.limits }),
    imapDecoderFactory({ ports: ports.imap ?? IMAP_DEFAULT_PORTS, limits: ports.limits }),
  ];
}
