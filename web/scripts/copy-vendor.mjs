// Swagger UI and ReDoc, copied out of node_modules into the build, so every page that uses
// them (each service's /docs and /redoc, the Developer Portal's Try Out) loads them from this
// machine: nothing comes from a CDN at run time.
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";

const out = new URL("../public/vendor/", import.meta.url);
const files = {
  "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui-bundle.js",
  "swagger-ui-dist/swagger-ui.css": "swagger-ui.css",
  "swagger-ui-dist/favicon-32x32.png": "favicon-32x32.png",
  "redoc/bundles/redoc.standalone.js": "redoc.standalone.js",
};
await mkdir(out, { recursive: true });
for (const [from, to] of Object.entries(files)) {
  await copyFile(new URL(`../node_modules/${from}`, import.meta.url), new URL(to, out));
}
await copyFile(new URL("../src/docs/swagger-init.js", import.meta.url), new URL("swagger-init.js", out));

// ReDoc's sidebar shows Redocly's logo from their CDN; an empty image instead (ReDoc hides a
// logo that fails to load), so even that is not asked of the network.
const redoc = new URL("redoc.standalone.js", out);
const cdnLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const bundle = await readFile(redoc, "utf8");
if (!bundle.includes(cdnLogo)) throw new Error("ReDoc no longer links its CDN logo: check copy-vendor.mjs");
await writeFile(redoc, bundle.replaceAll(cdnLogo, "data:,"));
console.log(`copied Swagger UI and ReDoc into ${out.pathname}`);
