// ETSI TS 103 221-2 X2/X3: PDU codec, stream framer and mapping to normalised events.
export * from './event.ts';
export * from './framer.ts';
export * from './pdu.ts';
