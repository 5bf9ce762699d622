/**
 * Repository globs as Zot's retention policies spell them (doublestar): `*` and `?` stay within one
 * path segment, `**` crosses segments, so `ci/**` matches `ci/app` and `ci/a/b` but not `cinema`.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*' && glob[i + 1] === '*') {
      // `a/**` also matches `a` itself, as doublestar does.
      if (glob[i + 2] === undefined && source.endsWith('\\/')) source = `${source.slice(0, -2)}(?:\\/.*)?`;
      else source += '.*';
      i++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Whether `name` matches any of the globs. */
export function matchesAny(globs: readonly string[], name: string): boolean {
  return globs.some((glob) => globToRegExp(glob).test(name));
}
