// The TRI codec (domain/tri-codec.ts) on the wall clock.
import { createTriCodec, type TriCodecOptions } from '../domain/tri-codec.ts';
import type { KeepaliveCodec } from '../domain/types.ts';

export type EtsiCodecOptions = Omit<TriCodecOptions, 'nowMicros'>;

export function createEtsiKeepaliveCodec(o: EtsiCodecOptions): KeepaliveCodec {
  return createTriCodec({ ...o, nowMicros: () => Date.now() * 1000 });
}
