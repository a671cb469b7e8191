import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const svelteConfig = fileURLToPath(new URL('./svelte.config.js', import.meta.url));
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.spec.ts'],
          environment: 'node',
          typecheck: { enabled: true, include: ['test/unit/**/*.test-d.ts'], tsconfig: './tsconfig.test.json' },
        },
      },
      {
        plugins: [svelte({ configFile: svelteConfig, compilerOptions: { hmr: false } })],
        resolve: { conditions: ['browser'] },
        test: { name: 'components', include: ['test/components/**/*.spec.ts'], environment: 'jsdom', setupFiles: ['test/components/setup.ts'] },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.spec.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      { test: { name: 'lab', include: ['test/lab/**/*.spec.ts'], environment: 'node', testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } },
      {
        // fault scenarios (test/faults): real sshd, real kernels, one lab at a time
        test: {
          name: 'faults',
          include: ['test/faults/**/*.spec.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        // long fault stories kept out of `npm test` (CI's budget): `npm run bench -- long` runs them
        test: { name: 'long', include: ['test/long/**/*.spec.ts'], environment: 'node', testTimeout: 900_000, hookTimeout: 900_000, fileParallelism: false },
      },
      { test: { name: 'ui', include: ['test/ui/**/*.spec.ts'], environment: 'node', testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false } },
    ],
  },
});
