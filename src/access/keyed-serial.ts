/**
 * Tasks run one after another per key, keys independently: a task starts once every task queued
 * before it under the same key has settled, whatever their outcome, and its own result (or rejection)
 * is the caller's. A key with nothing queued holds nothing. The Access Manager and secret rotation
 * apply a keyset's writes and reloads to their mirrors in order with it.
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }
}
