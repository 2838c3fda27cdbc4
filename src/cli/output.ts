import type { Writable } from 'node:stream';

/** Characters gathered before a write is forced. */
const CHUNK = 64 * 1024;

/**
 * Line output with backpressure: lines that are ready together go out in one write (at the end
 * of the current turn of the event loop, or at 64 KiB), and `write` waits for `'drain'` when the
 * stream asks to, so a slow reader of stdout slows the whole run instead of filling memory.
 */
export class LineWriter {
  #buffer = '';
  #scheduled = false;
  #blocked: Promise<void> | null = null;
  #error: Error | null = null;
  readonly #stream: Writable;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  /** The first error the stream reported (EPIPE when the reader went away), if any. */
  get error(): Error | null {
    return this.#error;
  }

  /** Records a stream error; later writes are dropped. */
  fail(error: Error): void {
    this.#error ??= error;
    this.#buffer = '';
  }

  /** Queues `text`; resolves at once unless the stream is full. */
  write(text: string): Promise<void> | void {
    if (this.#error) return;
    this.#buffer += text;
    if (this.#buffer.length >= CHUNK) return this.flush();
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.flush();
      });
    }
    return this.#blocked ?? undefined;
  }

  /** Writes what is queued; resolves when the stream can take more. */
  async flush(): Promise<void> {
    if (this.#blocked) await this.#blocked;
    if (this.#error || this.#buffer === '') return;
    const text = this.#buffer;
    this.#buffer = '';
    if (!this.#stream.write(text)) {
      this.#blocked = new Promise<void>((resolve) => {
        const done = () => {
          this.#stream.off('drain', done);
          this.#stream.off('close', done);
          this.#stream.off('error', done);
          this.#blocked = null;
          resolve();
        };
        this.#stream.on('drain', done);
        this.#stream.on('close', done);
        this.#stream.on('error', done);
      });
      await this.#blocked;
    }
  }
}
