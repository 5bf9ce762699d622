/**
 * A Map that holds at most `limit` entries and forgets the oldest one to make room: for what a
 * process remembers to save storage a round trip, where forgetting only costs that round trip.
 */
export class RecentMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}
