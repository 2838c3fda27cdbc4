import { BufferOverflowError } from '../errors.ts';
import type { Queue } from '../pools/Queue.ts';
import type { OverflowPolicy } from './options.ts';

export interface Overflow<T> {
  readonly maxBuffered: number;
  readonly overflow: OverflowPolicy;
  readonly onDrop: ((value: T, dropped: number) => void) | undefined;
  /** Errors the output (a thrown `onDrop`, an overflow under policy 'error'). */
  readonly fail: (error: unknown) => void;
  /** What the waiting values wait for, for the overflow message: e.g. "one of 4 slots". */
  readonly waitingFor: () => string;
}

/**
 * The operators' input buffer under `maxBuffered` and the overflow policy: a value that finds room
 * waits; otherwise 'error' fails the output, 'drop-newest' drops it, 'drop-oldest' drops the value
 * that has waited longest. Every dropped value goes to `onDrop` with the running count.
 */
export function admitter<T>(o: Overflow<T>): (input: Queue<T>, value: T) => void {
  const { maxBuffered, overflow, onDrop, fail } = o;
  let dropped = 0;
  const drop = (value: T) => {
    dropped++;
    if (onDrop === undefined) return;
    try {
      onDrop(value, dropped);
    } catch (error) {
      fail(error);
    }
  };
  return (input, value) => {
    if (input.length < maxBuffered) return input.push(value);
    switch (overflow) {
      case 'error':
        return fail(
          new BufferOverflowError(
            `maxBuffered (${maxBuffered}) exceeded: a value arrived while ${input.length} values were already waiting for ` +
              `${o.waitingFor()}. Raise maxBuffered, slow the source down, or choose overflow 'drop-oldest' or 'drop-newest'`,
            maxBuffered,
          ),
        );
      case 'drop-newest':
        return drop(value);
      case 'drop-oldest':
        if (input.length === 0) return drop(value); // maxBuffered 0: the new value is the oldest waiting
        input.push(value);
        return drop(input.shift());
    }
  };
}
