// One build, three portals: each HTML page is an entry point; shared code (Preact, the API
// client, the sign-in page) lands in shared chunks that the browser caches across portals.
// Publisher serves /publisher and /admin, devportal /devportal, both the assets under /ui.
import { defineConfig } from "vitest/config";

export default defineConfig({
  base: "/ui/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: {
      input: {
        publisher: "publisher.html",
        admin: "admin.html",
        devportal: "devportal.html",
      },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
