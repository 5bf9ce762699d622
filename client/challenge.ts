/** The parameters of a `WWW-Authenticate` challenge (RFC 7235 §4.1), lower-cased names. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const match of header.slice(space + 1).matchAll(/([a-zA-Z_]+)="?((?<=")[^"]*|[^,\s]*)"?/g)) {
    params[match[1]!.toLowerCase()] = match[2]!;
  }
  return { scheme, params };
}

/**
 * A challenge's scope with each resource's actions sorted, to key tokens by: the order is free
 * (auth-scope.md), and Distribution names `pull,push` or `push,pull` as its map happens to iterate.
 */
export function scopeKey(scope: string): string {
  return scope
    .split(' ')
    .filter(Boolean)
    .map((resource) => {
      const actionsAt = resource.lastIndexOf(':') + 1;
      return resource.slice(0, actionsAt) + resource.slice(actionsAt).split(',').sort().join(',');
    })
    .sort()
    .join(' ');
}
