// shapes.test.mjs - the shape comparison every suite runs at server stop
// (shapes.mjs): it must report a field Datadog answers and keyhold leaves
// out, and must not ask for fields where keyhold's answer has nothing to
// compare (an empty list, a null, another kind of included object).
import { test } from "node:test";
import assert from "node:assert/strict";
import { missingPaths, recordings, shapeProblems } from "./shapes.mjs";

test("a field of the recording missing from an answer is reported, at its topmost missing key", () => {
  const recorded = { data: { id: "1", type: "users", attributes: { name: "a", icon: "x" }, relationships: { org: { data: { id: "o" } } } } };
  const ours = { data: { id: "2", type: "users", attributes: { name: "b" } } };
  assert.deepEqual(missingPaths(recorded, ours), ["data.attributes.icon", "data.relationships"]);
  assert.deepEqual(missingPaths(recorded, recorded), []);
});

test("list elements are compared by JSON:API type; empty lists and nulls are not asked into", () => {
  const recorded = { data: [{ type: "users", id: "u", attributes: { email: "e" } }],
    included: [{ type: "roles", id: "r", relationships: { permissions: { data: [] } } }, { type: "users", id: "x", attributes: { email: "e" } }],
    meta: { last_used: { timestamp: null, description: "d" } } };
  const ours = { data: [], included: [{ type: "users", id: "y", attributes: { email: "f" } }], meta: { last_used: null } };
  assert.deepEqual(missingPaths(recorded, ours), []);
  const wrongUser = { data: [{ type: "users", id: "u", attributes: {} }], included: [], meta: { last_used: {} } };
  assert.deepEqual(missingPaths(recorded, wrongUser), ["data[type=users].attributes.email", "meta.last_used.description",
    "meta.last_used.timestamp"]);
});

test("answers are compared only with a recording of the same operation and status", () => {
  const rec = recordings();
  assert.ok(Object.keys(rec).length >= 40, "the recordings are there");
  const [id, r] = Object.entries(rec).find(([, v]) => v.response && typeof v.response === "object" && v.response.data);
  const { problems, compared } = shapeProblems([
    { id, status: r.status, text: JSON.stringify({}) },
    { id, status: 500, text: JSON.stringify({}) },
    { id: "v9.Nothing", status: 200, text: "{}" },
  ]);
  assert.deepEqual([...compared], [id]);
  assert.ok(problems.length >= 1 && problems.every((p) => p.startsWith(`${id} ${r.status}:`)));
});

test("every recording names its source", () => {
  for (const [id, r] of Object.entries(recordings())) {
    assert.ok(r.provenance && r.provenance.repo && r.provenance.path && r.provenance.commit, id);
    assert.ok(Number.isInteger(r.status), id);
  }
});
