// The wiring keys a LEMF as <tenant>/<id>: the same LEMF id may exist in two tenants.
export const lemfKey = (tenant: string, lemfId: string): string => `${tenant}/${lemfId}`;

/** The tenant and LEMF id of a key; a bare LEMF id (no `/`) has no tenant. */
export function splitLemfKey(key: string): { tenant: string; lemf: string } {
  const i = key.indexOf('/');
  if (i < 0) return { tenant: '', lemf: key };
  return { tenant: key.slice(0, i), lemf: key.slice(i + 1) };
}
