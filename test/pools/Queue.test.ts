/** The input buffer: a FIFO in blocks; the same values, in the same order, as a plain array across block boundaries. */
import { describe, expect, test } from 'vitest';
import { Queue } from '../../src/pools/Queue.ts';

describe('Queue', () => {
  test('push, shift and take keep FIFO order across many blocks', () => {
    const queue = new Queue<number>();
    const model: number[] = [];
    let next = 0;
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let step = 0; step < 1500; step++) {
      const op = random(10);
      if (op < 5) {
        const count = random(700); // bursts that cross a block's end
        for (let i = 0; i < count; i++) {
          queue.push(next);
          model.push(next++);
        }
      } else if (op < 8) {
        const n = 1 + random(1500);
        expect(queue.take(n)).toEqual(model.splice(0, n));
      } else if (model.length > 0) {
        expect(queue.shift()).toBe(model.shift());
      }
      expect(queue.length).toBe(model.length);
    }
    expect(queue.take(Infinity)).toEqual(model);
    expect(queue.length).toBe(0);
  });

  test('take from an empty queue, or more than it holds', () => {
    const queue = new Queue<string>();
    expect(queue.take(3)).toEqual([]);
    queue.push('a');
    queue.push('b');
    expect(queue.take(5)).toEqual(['a', 'b']);
    expect(queue.take(1)).toEqual([]);
    queue.push('c');
    expect(queue.shift()).toBe('c');
    expect(queue.length).toBe(0);
  });

  test('clear empties it, and it is usable after', () => {
    const queue = new Queue<number>();
    for (let i = 0; i < 3000; i++) queue.push(i);
    queue.take(1500);
    queue.clear();
    expect(queue.length).toBe(0);
    expect(queue.take(10)).toEqual([]);
    for (let i = 0; i < 2050; i++) queue.push(i);
    expect(queue.shift()).toBe(0);
    expect(queue.take(2049)).toEqual(Array.from({ length: 2049 }, (_, i) => i + 1));
  });
});
