// coverage.test.mjs - runs last: every operation of ../shared/spec/*.yaml,
// and of next/audit-v2.yaml which keyhold serves too (contract.mjs), must
// have been called through the official client by the suites before it.
// The contract-checking transport (contract.mjs) appends each call's
// operation to $KEYHOLD_COVERAGE_FILE; the Makefile sets and clears it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { operations, COVERAGE_FILE } from "./contract.mjs";
import { recordings } from "./shapes.mjs";

test("every operation of the spec is called by an integration test", () => {
  assert.ok(COVERAGE_FILE, "KEYHOLD_COVERAGE_FILE must name the file the suites record their calls in");
  assert.ok(existsSync(COVERAGE_FILE), `no calls were recorded in ${COVERAGE_FILE}`);
  const called = new Map();
  for (const line of readFileSync(COVERAGE_FILE, "utf8").split("\n").filter(Boolean)) {
    const { id, status } = JSON.parse(line);
    if (!called.has(id)) called.set(id, new Set());
    called.get(id).add(status);
  }
  const all = operations().ops.map((o) => `${o.version}.${o.operationId}`);
  assert.equal(all.length, 68, "the spec lists 66 operations, and the Audit Trail API 2");
  const missing = all.filter((id) => !called.has(id));
  assert.deepEqual(missing, [], "operations no integration test calls");
  const neverSucceeded = all.filter((id) => ![...called.get(id)].some((s) => s >= 200 && s < 300));
  assert.deepEqual(neverSucceeded, [], "operations never called successfully");
});

test("every recorded Datadog answer was compared with keyhold's answer to the same operation", () => {
  const file = `${COVERAGE_FILE}.shapes`;
  assert.ok(existsSync(file), `no shape comparisons were recorded in ${file}`);
  const compared = new Set(readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).id));
  const never = Object.keys(recordings()).filter((id) => !compared.has(id));
  assert.deepEqual(never, [], "recordings no answer was compared with");
});
