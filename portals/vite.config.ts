import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In production the platform serves dist/ at `/` and the API on the same origin;
// in development the same relative URLs reach a locally running platform through the proxy.
const platform = process.env.C2M_PLATFORM_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  base: '/',
  // @c2m/shared is a linked workspace package in CommonJS (the chaincode needs that); the dev
  // server only serves ESM, so it must be pre-bundled like any CommonJS dependency.
  optimizeDeps: { include: ['@c2m/shared'] },
  server: {
    port: 5173,
    proxy: {
      '/api': platform,
      '/health': platform,
      '/ready': platform,
      '/docs': platform,
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // ECharts is most of the bundle; keep it in its own cacheable chunk.
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts';
          return undefined;
        },
      },
    },
  },
});
