// Rules on a LemfDestination that admf (refuses with 400) and cc-delivery (refuses to deliver)
// must apply alike: one definition, so the two can never disagree on what is plaintext or on
// what a secret reference may name.
import { unreachable } from '@li/core';
import { TRANSPORT_TRAITS, type TransportTraits } from './traits.ts';
import type { FileFormat, FileSettings, FileStream, LemfDestination } from './types.ts';

/**
 * A secret reference is a plain file name inside the tenant's own secret directory
 * (`<secretsDir>/<tenant>/<ref>`): no `/`, no `..`, no leading dot, so it can never reach
 * another tenant's secrets.
 */
export const SECRET_REF_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export function isSecretRef(ref: string): boolean {
  return SECRET_REF_PATTERN.test(ref) && !ref.includes('..');
}

/** The secret references a LEMF names, with the field each sits in. */
export function secretRefsOf(
  dest: Pick<LemfDestination, 'tls' | 'files' | 'email' | 'ipsec'>,
): { field: string; ref: string }[] {
  const out: { field: string; ref: string }[] = [];
  const add = (field: string, ref: string | null | undefined) => {
    if (ref !== null && ref !== undefined) out.push({ field, ref });
  };
  add('tls.caRef', dest.tls?.caRef);
  add('tls.certRef', dest.tls?.certRef);
  add('tls.keyRef', dest.tls?.keyRef);
  add('files.credentialRef', dest.files?.credentialRef);
  add('email.credentialRef', dest.email?.credentialRef);
  add('ipsec.pskRef', dest.ipsec?.pskRef);
  add('ipsec.certRef', dest.ipsec?.certRef);
  add('ipsec.keyRef', dest.ipsec?.keyRef);
  add('ipsec.caRef', dest.ipsec?.caRef);
  return out;
}

/**
 * Why a LEMF's transport is plaintext, as the setting that would make it secure, or null when it
 * is not: such a LEMF needs `allowInsecure: true`. PIPE is local and never plaintext on a network.
 */
export function plaintextSetting(
  dest: Pick<LemfDestination, 'transport' | 'tls' | 'files' | 'email' | 'ipsec'>,
): { field: string; reason: string } | null {
  // Inside an IPsec tunnel the network layer encrypts and authenticates (cc-delivery sends nothing
  // while the tunnel is down), so the transport itself may be plaintext.
  if (dest.ipsec) return null;
  // The transport's traits say what secures it; an unknown transport is refused where it is
  // built (DLV_ERR_UNKNOWN_TRANSPORT), not here.
  const secureWith: TransportTraits['secureWith'] | undefined = TRANSPORT_TRAITS[dest.transport]?.secureWith;
  switch (secureWith) {
    case 'tls':
      return dest.tls ? null : { field: 'tls', reason: `${dest.transport} without tls is plaintext` };
    case 'files.hostKeySha256':
      return dest.files?.hostKeySha256
        ? null
        : { field: 'files.hostKeySha256', reason: `${dest.transport} without a pinned host key accepts any server` };
    case 'email.startTls':
      return dest.email && !dest.email.startTls
        ? { field: 'email.startTls', reason: `${dest.transport} without STARTTLS is plaintext` }
        : null;
    case null:
      return {
        field: 'transport',
        reason: `${dest.transport} is plaintext${dest.transport === 'FTP' ? ' (use SFTP with files.hostKeySha256)' : ''}`,
      };
    case 'local':
    case undefined:
      return null;
    default:
      return unreachable(secureWith, 'transport security');
  }
}

/**
 * What a file LEMF's files hold, with the defaults of records written before `streams`/`format`
 * existed: IRI and CC, as TS 102 232 PS-PDUs (the one encoding every IRI and CC has). One format
 * per LEMF: a file never mixes encodings.
 */
export function fileSelection(files: Pick<FileSettings, 'streams' | 'format'>): {
  streams: readonly FileStream[];
  format: FileFormat;
} {
  return { streams: files.streams ?? ['HI2', 'HI3'], format: files.format ?? 'TS102232' };
}
