import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The built page is served by the BentoML service itself (StaticFiles at "/"), so every
// asset path is relative and everything is bundled: no CDN, no web fonts, no network
// beyond the service. `npm run dev` proxies the API to a local `bentoml serve`.
const api = process.env.DIGITIFY_API ?? "http://127.0.0.1:3000";
const apiRoutes = ["/auth", "/predict", "/preview", "/corrections", "/admin", "/docs.json", "/readyz", "/livez"];

export default defineConfig({
  base: "./",
  plugins: [react(), tailwindcss()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 500,
  },
  server: {
    proxy: Object.fromEntries(apiRoutes.map((route) => [route, { target: api, changeOrigin: true }])),
  },
});
