// TS 101 671 HI2 over TCP: ROSE (X.880) PDUs carrying the sending-of-IRI operation
// (HI2-HI3-delivery.md §6). ROS ::= CHOICE { invoke [1], returnResult [2], returnError [3],
// reject [4] } with IMPLICIT tags, so an Invoke is A1 { invokeId, opcode, argument }.
import {
  BerError,
  BerWriter,
  CONTEXT,
  children,
  type DecodeResult,
  expectConstructed,
  guard,
  oidContent,
  readInteger,
  readOid,
  readTlv,
  type Tlv,
  U,
  UNIVERSAL,
} from './ber.ts';
import { encodeHi2IrisContentTo, type Hi2IrisContent } from './hi2.ts';

/** sending-of-IRI CODE global {0.4.0.2.2.1 sending-of-IRI(1) version1(1)}. */
export const SENDING_OF_IRI_OID: readonly number[] = [0, 4, 0, 2, 2, 1, 1, 1];

/** Local error codes of sending-of-IRI. */
export const HI2_ROSE_ERROR = {
  unknownVersion: 0,
  missingParameter: 1,
  unknownParameterValue: 2,
  unknownParameter: 3,
} as const;

export type RosePdu =
  | { kind: 'invoke'; invokeId: number; opcode: number[] | number; argument?: Uint8Array }
  | { kind: 'returnResult'; invokeId: number }
  | { kind: 'returnError'; invokeId: number; errcode: number[] | number }
  | { kind: 'reject'; invokeId: number | null; problemTag: number; problem: number };

const opcodeBytes = oidContent(SENDING_OF_IRI_OID);
const writer = new BerWriter(8 * 1024);

/** A ROSE invoke of sending-of-IRI whose argument is the IRIsContent. */
export function encodeSendingOfIri(invokeId: number, content: Hi2IrisContent): Buffer {
  writer.reset();
  try {
    writer.open(CONTEXT, 1);
    writer.int(UNIVERSAL, U.INTEGER, invokeId);
    writer.octets(UNIVERSAL, U.OID, opcodeBytes);
    encodeHi2IrisContentTo(writer, undefined, content);
    writer.end();
    return writer.finish();
  } finally {
    writer.reset();
  }
}

/** A ROSE returnResult without result (what a LEMF sends to acknowledge an IRI). */
export function encodeReturnResult(invokeId: number): Buffer {
  writer.reset();
  writer.open(CONTEXT, 2);
  writer.int(UNIVERSAL, U.INTEGER, invokeId);
  writer.end();
  return writer.finish();
}

function intOf(buf: Uint8Array, t: Tlv): number {
  const v = readInteger(buf, t);
  if (typeof v !== 'number') throw new BerError('ETSI_ERR_BAD_VALUE', 'integer too large', t.offset);
  return v;
}

function codeOf(buf: Uint8Array, t: Tlv): number[] | number {
  if (t.cls === UNIVERSAL && t.num === U.OID) return readOid(buf, t);
  if (t.cls === UNIVERSAL && t.num === U.INTEGER) return intOf(buf, t);
  throw new BerError('ETSI_ERR_UNEXPECTED_TAG', 'operation/error code must be OID or INTEGER', t.offset);
}

/** Decodes one ROSE PDU (e.g. the LEMF's answer on the HI2 connection). Never throws. */
export function decodeRosePdu(buf: Uint8Array): DecodeResult<RosePdu> {
  return guard(() => {
    const t = readTlv(buf, 0, buf.length);
    if (t.cls !== CONTEXT || t.num < 1 || t.num > 4) {
      throw new BerError('ETSI_ERR_UNEXPECTED_TAG', `not a ROSE PDU: tag ${t.num}`, t.offset);
    }
    expectConstructed(t, 'ROSE PDU');
    const c = children(buf, t);
    const first = c[0];
    if (!first) throw new BerError('ETSI_ERR_MISSING_FIELD', 'missing invokeId', t.offset);
    let value: RosePdu;
    switch (t.num) {
      case 1: {
        const op = c[1];
        if (!op) throw new BerError('ETSI_ERR_MISSING_FIELD', 'missing opcode', t.offset);
        const arg = c[2];
        value = { kind: 'invoke', invokeId: intOf(buf, first), opcode: codeOf(buf, op) };
        if (arg) value.argument = buf.subarray(arg.offset, arg.next);
        break;
      }
      case 2:
        value = { kind: 'returnResult', invokeId: intOf(buf, first) };
        break;
      case 3: {
        const code = c[1];
        if (!code) throw new BerError('ETSI_ERR_MISSING_FIELD', 'missing errcode', t.offset);
        value = { kind: 'returnError', invokeId: intOf(buf, first), errcode: codeOf(buf, code) };
        break;
      }
      default: {
        const problem = c[1];
        if (!problem) throw new BerError('ETSI_ERR_MISSING_FIELD', 'missing problem', t.offset);
        const invokeId = first.cls === UNIVERSAL && first.num === U.NULL ? null : intOf(buf, first);
        value = { kind: 'reject', invokeId, problemTag: problem.num, problem: intOf(buf, problem) };
      }
    }
    return { value, bytesRead: t.next };
  });
}
