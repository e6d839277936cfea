// A VICI client on charon's unix socket (what swanctl speaks): requests one at a time, streamed
// commands (list-sas) collect their events. No npm VICI client is maintained, and swanctl would
// need the binary in cc-delivery's image and a config file per change; the protocol is small.
import net from 'node:net';
import { decodePacket, encodePacket, PacketReader, PacketType, type ViciMessage } from '../domain/vici-message.ts';

class ViciError extends Error {}

export class ViciClient {
  readonly #path: string;
  readonly #timeoutMs: number;
  #socket: net.Socket | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(socketPath: string, timeoutMs = 10_000) {
    this.#path = socketPath.replace(/^unix:\/\//, '');
    this.#timeoutMs = timeoutMs;
  }

  /** A command; rejects on a transport error, an unknown command or `success = no`. */
  request(cmd: string, msg: ViciMessage = {}): Promise<ViciMessage> {
    return this.#serial(() => this.#exchange(cmd, msg, null).then((r) => r.response));
  }

  /** A streamed command: the events named `event` it emits, then its response. */
  stream(cmd: string, event: string, msg: ViciMessage = {}): Promise<{ events: ViciMessage[]; response: ViciMessage }> {
    return this.#serial(() => this.#exchange(cmd, msg, event));
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = null;
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(f, f);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  async #connect(): Promise<net.Socket> {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const s = net.connect(this.#path);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.on('error', () => s.destroy());
    this.#socket = s;
    return s;
  }

  async #exchange(
    cmd: string,
    msg: ViciMessage,
    event: string | null,
  ): Promise<{ events: ViciMessage[]; response: ViciMessage }> {
    const s = await this.#connect();
    const reader = new PacketReader();
    const events: ViciMessage[] = [];
    // register (if streamed) → command → unregister: one answer each, events in between
    const steps: Buffer[] = [
      ...(event ? [encodePacket(PacketType.EVENT_REGISTER, event)] : []),
      encodePacket(PacketType.CMD_REQUEST, cmd, msg),
      ...(event ? [encodePacket(PacketType.EVENT_UNREGISTER, event)] : []),
    ];
    return new Promise((resolve, reject) => {
      let step = 0;
      let response: ViciMessage | null = null;
      const done = (err: Error | null) => {
        clearTimeout(timer);
        s.off('data', onData);
        s.off('close', onClose);
        if (err) {
          s.destroy();
          reject(err);
        } else resolve({ events, response: response ?? {} });
      };
      const timer = setTimeout(
        () => done(new ViciError(`VICI ${cmd}: no answer in ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      const onClose = () => done(new ViciError(`VICI ${cmd}: connection closed`));
      const next = () => {
        if (step === steps.length) {
          if (response && response.success === 'no')
            done(new ViciError(`VICI ${cmd}: ${String(response.errmsg ?? 'failed')}`));
          else done(null);
          return;
        }
        s.write(steps[step++]!);
      };
      const onData = (chunk: Buffer) => {
        try {
          for (const body of reader.push(chunk)) {
            const p = decodePacket(body);
            if (p.type === PacketType.EVENT) {
              if (p.name === event) events.push(p.message);
            } else if (p.type === PacketType.CMD_RESPONSE) {
              response = p.message;
              next();
            } else if (p.type === PacketType.EVENT_CONFIRM) {
              next();
            } else {
              done(new ViciError(`VICI ${cmd}: unknown command or event (packet type ${p.type})`));
              return;
            }
          }
        } catch (e) {
          done(e as Error);
        }
      };
      s.on('data', onData);
      s.on('close', onClose);
      next();
    });
  }
}
