import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests, examples and marbles import the package by name, as users do; here that is the source.
  resolve: {
    alias: [
      { find: /^rxjs-pools$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^rxjs-pools\/testing$/, replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) },
      { find: /^rxjs-pools\/pools$/, replacement: fileURLToPath(new URL('./src/pools/index.ts', import.meta.url)) },
      { find: /^rxjs-pools\/redis$/, replacement: fileURLToPath(new URL('./src/redis/index.ts', import.meta.url)) },
      { find: /^rxjs-pools\/adapters$/, replacement: fileURLToPath(new URL('./src/adapters/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.spec.ts'],
    // Every test starts real workers: a hang must show as a failure, never as a stuck CI run.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    teardownTimeout: 10_000,
  },
});
