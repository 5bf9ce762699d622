const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in binary units, as `berth analyze` prints them. */
export function formatBytes(bytes) {
  if (bytes === undefined || bytes === null) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

/** An ISO time as the reader's local date and time, or a dash. */
export function formatTime(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** `sha256:abcdef012345…`: enough to tell digests apart in a table. */
export function shortDigest(digest) {
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}

export function plural(count, word, words = `${word}s`) {
  return `${count} ${count === 1 ? word : words}`;
}
