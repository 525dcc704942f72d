import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Native model tests load libtorch; forks isolate a crash to one file.
    pool: 'forks',
  },
});
