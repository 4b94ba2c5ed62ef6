// shapes.mjs - compares the shape of an answer keyhold gave with Datadog's
// recorded answer for the same operation (tests/integration/recorded/, see
// its README): every key path of the recording must exist in keyhold's
// answer. Values are not compared, only which fields are there.
//
// Paths name object keys and array elements: data.attributes.name,
// data[].id. Elements of an array of JSON:API objects are told apart by
// their `type` (included[type=roles].attributes.name), so that an answer
// including only users is not asked for a role's fields. A recorded path is
// checked only where keyhold's answer has its parent: an empty array, or a
// null where the recording has an object, has no children to compare.
import { readFileSync, readdirSync, existsSync } from "node:fs";

const DIR = new URL("./recorded/", import.meta.url);

let cache;

/** {"v2.ListRoles": {status, response, provenance}, ...} */
export function recordings() {
  if (cache) return cache;
  cache = {};
  if (!existsSync(DIR)) return cache;
  for (const f of readdirSync(DIR).filter((n) => n.endsWith(".json"))) {
    const r = JSON.parse(readFileSync(new URL(f, DIR), "utf8"));
    cache[r.operation] = r;
  }
  return cache;
}

function elementKey(path, el) {
  return el && typeof el === "object" && !Array.isArray(el) && typeof el.type === "string" ? `${path}[type=${el.type}]` : `${path}[]`;
}

/** The set of key paths of a JSON value; those holding null also go to nulls. */
export function keyPaths(value, path = "", out = new Set(), nulls = new Set()) {
  if (Array.isArray(value)) {
    for (const el of value) {
      const p = elementKey(path, el);
      out.add(p);
      keyPaths(el, p, out, nulls);
    }
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      out.add(p);
      if (v === null) nulls.add(p);
      keyPaths(v, p, out, nulls);
    }
  }
  return out;
}

function parentOf(p) {
  const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
  return cut < 0 ? "" : p.slice(0, cut);
}

/** Recorded paths missing from ours, where ours has their parent. */
export function missingPaths(recorded, ours) {
  const want = keyPaths(recorded);
  const nulls = new Set();
  const have = keyPaths(ours, "", new Set(), nulls);
  const missing = [];
  for (const p of want) {
    if (have.has(p) || p.endsWith("]")) continue; // an element only exists where the array is not empty
    const parent = parentOf(p);
    if ((parent === "" || have.has(parent)) && !nulls.has(parent)) missing.push(p);
  }
  return missing.sort();
}

// Fields keyhold leaves out on purpose: an application key's value is shown
// only to a caller holding every permission of the key (docs/security.md),
// so a narrower caller gets the key without it.
const WITHHELD = {
  "v2.GetCurrentUserApplicationKey": ["data.attributes.key"],
  "v2.UpdateCurrentUserApplicationKey": ["data.attributes.key"],
};

/** Problems of a list of answers [{id, status, text}] against the recordings. */
export function shapeProblems(responses) {
  const problems = [];
  const compared = new Set();
  const rec = recordings();
  for (const r of responses) {
    const want = rec[r.id];
    if (!want || r.status !== want.status) continue;
    let body;
    try {
      body = JSON.parse(r.text);
    } catch {
      continue;
    }
    compared.add(r.id);
    for (const p of missingPaths(want.response, body)) {
      if (!(WITHHELD[r.id] || []).includes(p)) problems.push(`${r.id} ${r.status}: no '${p}' (Datadog answers it)`);
    }
  }
  return { problems: [...new Set(problems)], compared };
}
