/**
 * Concurrent reads of one key share one request, without ever answering from before a caller
 * arrived: a caller never joins the request in flight, only the one queued to start when it
 * settles. Under a burst (CI runners pulling one image at once) each round trip then answers every
 * caller that came during the one before, and each answer still shows storage as it was after the
 * caller arrived: a link another replica removed is gone for everyone who asks after the removal.
 */
/** A key's request in flight, settling, and the one queued behind it. */
interface Flight<T> {
  settled: Promise<void>;
  next?: Promise<T>;
}

export class ReadCoalescer<T> {
  private readonly flights = new Map<string, Flight<T>>();

  read(key: string, fetch: () => Promise<T>): Promise<T> {
    const flight = this.flights.get(key);
    if (flight) return (flight.next ??= flight.settled.then(() => this.launch(key, fetch)));
    return this.launch(key, fetch);
  }

  private launch(key: string, fetch: () => Promise<T>): Promise<T> {
    const result = fetch();
    const ignore = () => undefined;
    const flight: Flight<T> = { settled: result.then(ignore, ignore) };
    this.flights.set(key, flight);
    void flight.settled.then(() => {
      if (!flight.next) this.flights.delete(key);
    });
    return result;
  }
}
