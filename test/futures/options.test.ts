/** Every bad argument of asCompleted and wait is refused at the call, with a message naming it. */
import { describe, expect, test } from 'vitest';
import { asCompleted, wait } from '../../src/pools/index.ts';

const p = Promise.resolve(1);

describe('asCompleted and wait: argument validation', () => {
  test.each([
    ['asCompleted', (x: unknown) => asCompleted(x as never)],
    ['wait', (x: unknown) => wait(x as never)],
  ] as const)('%s: `promises` must be an iterable of promises', (name, call) => {
    expect(() => call(p)).toThrow(`Expected \`promises\` of ${name} to be an iterable of promises (an array, a Set, map.keys()), got Promise object: wrap a single promise in an array`);
    expect(() => call(undefined)).toThrow(`Expected \`promises\` of ${name} to be an iterable of promises (an array, a Set, map.keys()), got undefined (undefined)`);
    expect(() => call('abc')).toThrow(`got "abc" (string)`);
    expect(() => call([p, 3])).toThrow(`Expected \`promises\` of ${name} to hold promises (or thenables), got 3 (number) at index 1`);
    expect(() => call([p, { then: 1 }])).toThrow('got Object object at index 1');
  });

  test.each([
    ['asCompleted', (o: unknown) => asCompleted([p], o as never)],
    ['wait', (o: unknown) => wait([p], o as never)],
  ] as const)('%s: `timeout` is milliseconds from 0 (or Infinity); unknown options are refused', (name, call) => {
    expect(() => call({ timeout: -1 })).toThrow('Expected `timeout` to be a number of milliseconds from 0 and up (or Infinity), got -1 (number)');
    expect(() => call({ timeout: Number.NaN })).toThrow('got NaN (number)');
    expect(() => call({ timeout: '100' })).toThrow('got "100" (string)');
    expect(() => call({ timeout: 0 })).not.toThrow();
    expect(() => call({ timeout: Infinity })).not.toThrow();
    expect(() => call({ timout: 5 })).toThrow(`Unknown ${name} option \`timout\`; known options: `);
    expect(() => call(5)).toThrow(`Expected the options of ${name} to be an object, got 5 (number)`);
    expect(() => call(null)).toThrow(`Expected the options of ${name} to be an object, got null`);
  });

  test('wait: `returnWhen` is one of the three constants, spelled as in Python', () => {
    expect(() => wait([p], { returnWhen: 'first_completed' as never })).toThrow(
      "Expected `returnWhen` to be 'FIRST_COMPLETED', 'FIRST_EXCEPTION' or 'ALL_COMPLETED', got \"first_completed\" (string)",
    );
    expect(() => wait([p], { returnWhen: undefined })).not.toThrow();
    expect(() => asCompleted([p], { returnWhen: 'ALL_COMPLETED' } as never)).toThrow('Unknown asCompleted option `returnWhen`; known options: timeout');
  });
});
