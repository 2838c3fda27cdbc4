/**
 * The windows' input buffer, and a stream's batches of values: a FIFO of fixed-size blocks, O(1)
 * `push` and `shift`, `take(n)` in O(n). Neither a plain array's `shift()` (O(n)) nor one growing
 * array: when a synchronous source buffers a million values, growing (and compacting) one array
 * copies it again and again into fresh memory, measured here at 100–250 ms per million pushes
 * against a few ms in blocks. Taken slots are cleared so dispatched values are not kept alive.
 */

/** Slots per block. */
const BLOCK = 1024;

interface Block<T> {
  /** Always BLOCK slots, packed (never holey), so a `slice` of it is a packed array too. */
  readonly items: (T | undefined)[];
  next: Block<T> | null;
}

function newBlock<T>(): Block<T> {
  const items: (T | undefined)[] = [];
  for (let i = 0; i < BLOCK; i++) items.push(undefined);
  return { items, next: null };
}

export class Queue<T> {
  /** The block read from (null until the first push) … */
  #head: Block<T> | null = null;
  #headAt = 0;
  /** … and the one written to; the same one while fewer than BLOCK values wait. */
  #tail: Block<T> | null = null;
  #tailAt = 0;
  #length = 0;
  /** One emptied block kept for reuse, so a queue that hovers around a block's end allocates nothing. */
  #spare: Block<T> | null = null;

  get length(): number {
    return this.#length;
  }

  push(value: T): void {
    let tail = this.#tail;
    if (tail === null) {
      tail = this.#head = this.#tail = newBlock();
    } else if (this.#tailAt === BLOCK) {
      const next = this.#spare ?? newBlock<T>();
      this.#spare = null;
      tail = tail.next = this.#tail = next;
      this.#tailAt = 0;
    }
    tail.items[this.#tailAt++] = value;
    this.#length++;
  }

  /** Removes and returns the oldest value; the queue must not be empty. */
  shift(): T {
    const head = this.#head!;
    const value = head.items[this.#headAt] as T;
    head.items[this.#headAt++] = undefined;
    this.#length--;
    this.#advance();
    return value;
  }

  /** Removes and returns up to `n` of the oldest values, oldest first (a packed array). */
  take(n: number): T[] {
    let left = Math.min(n, this.#length);
    let out: T[] | undefined;
    while (left > 0) {
      const head = this.#head!;
      const from = this.#headAt;
      const end = Math.min(from + left, head === this.#tail ? this.#tailAt : BLOCK);
      const part = head.items.slice(from, end) as T[];
      head.items.fill(undefined, from, end);
      out = out === undefined ? part : out.concat(part);
      left -= end - from;
      this.#length -= end - from;
      this.#headAt = end;
      this.#advance();
    }
    return out ?? [];
  }

  clear(): void {
    this.#head = this.#tail = this.#spare = null;
    this.#headAt = this.#tailAt = this.#length = 0;
  }

  /** After a read: an empty queue starts over in its block; a block read to its end is let go. */
  #advance(): void {
    const head = this.#head!;
    if (this.#length === 0) {
      // head === tail: every slot read is cleared, so the block is reused from its start.
      this.#headAt = this.#tailAt = 0;
    } else if (this.#headAt === BLOCK) {
      this.#head = head.next;
      this.#headAt = 0;
      head.next = null;
      this.#spare = head;
    }
  }
}
