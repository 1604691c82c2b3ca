/**
 * HTTP entity tags for packages. The store's own version token (Cosmos `_etag`) is the source; it is exposed as a
 * strong, quoted HTTP ETag whatever quoting the store uses (Azure quotes it, emulators may not).
 */
export function toHttpEtag(storeEtag: string): string {
  return storeEtag.startsWith('"') ? storeEtag : `"${storeEtag}"`;
}

/**
 * RFC 9110 If-Match: `*` matches any current representation; otherwise one of the listed tags must equal the
 * current one by strong comparison, so weak tags (W/"...") never match.
 */
export function ifMatchSatisfied(ifMatch: string, currentHttpEtag: string): boolean {
  const candidates = ifMatch.split(',').map((tag) => tag.trim());
  return candidates.some((tag) => tag === '*' || (!tag.startsWith('W/') && tag === currentHttpEtag));
}
