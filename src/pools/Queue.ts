/**
 * The operators' input buffer: a FIFO with amortised O(1) `push`, `shift` and `take`. A plain
 * array's `shift()` is O(n), which matters when a fast source buffers a million values.
 * Taken slots are cleared so dispatched values are not kept alive by the buffer.
 */
export class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(value: T): void {
    this.#items.push(value);
  }

  /** Removes and returns the oldest value; the queue must not be empty. */
  shift(): T {
    const value = this.#items[this.#head] as T;
    this.#items[this.#head++] = undefined;
    this.#compact();
    return value;
  }

  /** Removes and returns up to `n` of the oldest values, oldest first. */
  take(n: number): T[] {
    const end = Math.min(this.#head + n, this.#items.length);
    const out = this.#items.slice(this.#head, end) as T[];
    this.#items.fill(undefined, this.#head, end);
    this.#head = end;
    this.#compact();
    return out;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
