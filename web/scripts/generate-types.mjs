// The portals' API types, generated from the services' own OpenAPI documents
// (src/api/generated/<service>.json, written by `python -m aigw.devtools.openapi_export`,
// which `make web` runs first): an API change that breaks a portal breaks its type check.
import { readFile, writeFile } from "node:fs/promises";
import openapiTS, { astToString } from "openapi-typescript";

const dir = new URL("../src/api/generated/", import.meta.url);
for (const service of ["publisher", "devportal", "keymanager"]) {
  const document = JSON.parse(await readFile(new URL(`${service}.json`, dir), "utf8"));
  const ast = await openapiTS(document);
  await writeFile(new URL(`${service}.ts`, dir), astToString(ast));
}
console.log("generated API types for publisher, devportal and keymanager");
