/**
 * The hand-written async iterators that `map` and `pool.stream` return. Hand-written rather than
 * async generators: a value that is ready is handed out at the cost of one resolved promise, with
 * no suspended frame holding it (the consumer alone decides how long it lives). A subclass says what
 * is ready now (`ready`), how to wait for what comes next (`wait`) and how to leave (`return`);
 * calls to `next` made while one waits queue behind it, in order.
 */
export abstract class PullIterator<R> implements AsyncGenerator<R, void, undefined> {
  /** A `next()` waiting: later calls queue behind it. */
  #pending: Promise<IteratorResult<R, void>> | undefined;

  /** A result ready now, `done` at the end, or undefined (wait). Throws the error due now. */
  protected abstract ready(): IteratorResult<R, void> | undefined;
  /** Waits until `ready` has something, and returns it. */
  protected abstract wait(): Promise<IteratorResult<R, void>>;
  abstract return(): Promise<IteratorResult<R, void>>;

  /** What `next` returns when `ready` throws. */
  protected failed(error: unknown): Promise<IteratorResult<R, void>> {
    return Promise.reject(error);
  }

  next(): Promise<IteratorResult<R, void>> {
    if (this.#pending === undefined) {
      try {
        const ready = this.ready();
        if (ready !== undefined) return Promise.resolve(ready);
      } catch (error) {
        return this.failed(error);
      }
    }
    const after = this.#pending;
    const step = (after ? after.then(() => this.wait(), () => this.wait()) : this.wait()).finally(() => {
      if (this.#pending === step) this.#pending = undefined;
    });
    this.#pending = step;
    return step;
  }

  async throw(error: unknown): Promise<IteratorResult<R, void>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}
