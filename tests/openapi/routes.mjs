// SPDX-License-Identifier: MIT
// The router's table (node/api/table.c, `routes[]`) and docs/openapi.yaml
// name the same routes: every served route is in the spec and not marked
// `x-provcat-status: planned`, and every spec operation without that mark
// is served. Also: every $ref resolves, every operation answers with a
// schema. A self-test first shows each check failing on a spec broken on
// purpose. Prints "openapi: N passed, M failed".
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH, "x.js"));
const YAML = require("yaml");
const [specPath, routerPath] = process.argv.slice(2);
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

// "/v1/catalog/{id}/records/{key}" and "/v1/catalog/{}/records/{}" alike.
const norm = (p) => p.replace(/\{[^}]*\}/g, "{}");

function routerRoutes(text) {
  const body = text.slice(text.indexOf("struct api_route routes[]"));
  const table = body.slice(0, body.indexOf("};"));
  const re = /\{\s*"(GET|POST|PUT|DELETE|PATCH|HEAD)",\s*"([^"]+)"/g;
  const out = new Set();
  for (const m of table.matchAll(re)) {
    out.add(`${m[1]} ${norm(m[2])}`);
  }
  // DELETE on a data path answers 405 immutable: the table lists those
  // paths apart (`immutable_paths[]`), and the spec documents the 405.
  const imm = text.slice(text.indexOf("immutable_paths[] = {"));
  for (const m of imm.slice(0, imm.indexOf("};")).matchAll(/"([^"]+)"/g)) {
    out.add(`DELETE ${norm(m[1])}`);
  }
  return out;
}

function specRoutes(spec) {
  const served = new Map(), planned = new Set();
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const k = `${m.toUpperCase()} ${norm(p)}`;
      if (op["x-provcat-status"] === "planned") planned.add(k);
      else if (op["x-provcat-status"] !== undefined) served.set(k, `bad mark "${op["x-provcat-status"]}"`);
      else served.set(k, null);
    }
  }
  return { served, planned };
}

// The problems of `spec` against the router's routes.
function check(spec, router) {
  const problems = [];
  const { served, planned } = specRoutes(spec);
  for (const [k, bad] of served) {
    if (bad) problems.push(`${k}: ${bad} (only "planned" is allowed)`);
  }
  for (const r of router) {
    if (planned.has(r)) problems.push(`${r} is served but marked planned in the spec`);
    else if (!served.has(r)) problems.push(`${r} is served but missing from the spec`);
  }
  for (const k of served.keys()) {
    if (!router.has(k)) problems.push(`${k} is in the spec, not marked planned, but not served`);
  }
  // Every $ref resolves.
  const walk = (v, where) => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${where}/${i}`));
    if (v && typeof v === "object") {
      if (typeof v.$ref === "string") {
        let t = spec;
        for (const part of v.$ref.replace(/^#\//, "").split("/")) {
          t = t && t[part.replace(/~1/g, "/").replace(/~0/g, "~")];
        }
        if (!v.$ref.startsWith("#/") || t === undefined) {
          problems.push(`${where}: $ref ${v.$ref} does not resolve`);
        }
      }
      for (const [k, x] of Object.entries(v)) walk(x, `${where}/${k}`);
    }
  };
  walk(spec, "#");
  // Every answer of every operation has a schema (or points to one that has).
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const codes = Object.keys(op.responses || {});
      if (!codes.some((c) => c.startsWith("2")) && !codes.every((c) => c === "405")) {
        problems.push(`${m.toUpperCase()} ${p}: no 2xx answer`);
      }
      for (const [code, r0] of Object.entries(op.responses || {})) {
        const r = r0.$ref ? spec.components.responses[r0.$ref.split("/").pop()] : r0;
        const media = r && r.content && Object.values(r.content)[0];
        if (!media || !media.schema) problems.push(`${m.toUpperCase()} ${p} ${code}: no schema`);
      }
    }
  }
  return problems;
}

const spec = YAML.parse(readFileSync(specPath, "utf8"));
const router = routerRoutes(readFileSync(routerPath, "utf8"));
let passed = 0, failed = 0;
const expect = (name, ok, detail) => {
  if (ok) passed++;
  else { failed++; console.log(`[FAIL] ${name}${detail ? "\n  " + detail.join("\n  ") : ""}`); }
};

// The checks catch what they are for: a served route dropped from the
// spec, marked planned, a spec route the router lacks, a dangling $ref.
const clone = () => structuredClone(spec);
const someServed = [...router][0];
const [sm, sp] = someServed.split(" ");
const specPathOf = (np) => Object.keys(spec.paths).find((p) => norm(p) === np);
{
  const s = clone();
  delete s.paths[specPathOf(sp)][sm.toLowerCase()];
  expect("self-test: a served route missing from the spec is caught",
         check(s, router).some((x) => x.includes("missing from the spec")));
}
{
  const s = clone();
  s.paths[specPathOf(sp)][sm.toLowerCase()]["x-provcat-status"] = "planned";
  expect("self-test: a served route marked planned is caught",
         check(s, router).some((x) => x.includes("marked planned")));
}
{
  const s = clone();
  s.paths["/v1/not-served"] = { get: { responses: { "200": { description: "x", content: { "application/json": { schema: {} } } } } } };
  expect("self-test: an unmarked spec route the router lacks is caught",
         check(s, router).some((x) => x.includes("/v1/not-served")));
}
{
  const s = clone();
  s.paths[specPathOf(sp)][sm.toLowerCase()].responses["599"] = { $ref: "#/components/responses/Nope" };
  expect("self-test: a dangling $ref is caught",
         check(s, router).some((x) => x.includes("does not resolve")));
}

const problems = check(spec, router);
expect(`docs/openapi.yaml and node/api/table.c name the same routes (${router.size} served)`,
       problems.length === 0, problems);
const { planned } = specRoutes(spec);
console.log(`openapi: ${router.size} routes served, ${planned.size} planned`);
console.log(`openapi: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
