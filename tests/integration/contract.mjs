// contract.mjs - checks answers against the OpenAPI contract in
// ../../../shared/spec (or $KEYHOLD_SPEC_DIR): every response the official
// client receives must have a status the operation declares and, when JSON,
// validate against that status's schema. Also records which operations were
// called, for the coverage test.
import { readFileSync, appendFileSync } from "node:fs";
import { resolve } from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import YAML from "yaml";

const SPEC_DIR = resolve(process.env.KEYHOLD_SPEC_DIR || new URL("../../../shared/spec", import.meta.url).pathname);
export const COVERAGE_FILE = process.env.KEYHOLD_COVERAGE_FILE || "";

let cached;

/** The spec files keyhold serves: Datadog's keys and users APIs, and the
 * Audit Trail API (shipped in the shared spec's next/, served since issue 15;
 * the shared spec is read-only here, so it is read where it is). */
const SPEC_FILES = [
  { version: "v1", file: "keys-v1.yaml", id: "keys-v1" },
  { version: "v2", file: "keys-v2.yaml", id: "keys-v2" },
  { version: "v2", file: "next/audit-v2.yaml", id: "audit-v2" },
];

/** The operations of the spec files: [{version, method, path, regex, operationId, op, doc, schemaId}]. */
export function operations() {
  if (cached) return cached;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const ops = [];
  for (const { version, file, id } of SPEC_FILES) {
    const doc = YAML.parse(readFileSync(`${SPEC_DIR}/${file}`, "utf8"));
    ajv.addSchema(doc, id);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
        const regex = new RegExp("^" + path.replace(/\{[^}]+\}/g, "[^/]+") + "$");
        ops.push({ version, method: method.toUpperCase(), path, regex, operationId: op.operationId, op, doc, schemaId: id });
      }
    }
  }
  cached = { ajv, ops };
  return cached;
}

/** The operation answering method + URL path, preferring literal paths over templates. */
export function findOperation(method, pathname) {
  const matches = operations().ops.filter((o) => o.method === method && o.regex.test(pathname));
  matches.sort((a, b) => (a.path.match(/\{/g) || []).length - (b.path.match(/\{/g) || []).length);
  return matches[0];
}

/** Returns a list of problems with one response (empty when it conforms). */
export function checkResponse(method, url, status, contentType, text) {
  const { pathname } = new URL(url);
  const op = findOperation(method, pathname);
  if (!op) return [`${method} ${pathname}: no such operation in the spec`];
  const declared = op.op.responses[String(status)] || op.op.responses.default;
  if (!declared) return [`${op.operationId} (${op.version}): status ${status} is not declared`];
  const media = declared.content && (declared.content["application/json"] || Object.values(declared.content)[0]);
  if (!media || !media.schema) {
    return text && status !== 204 ? [] : [];
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return [`${op.operationId} (${op.version}) ${status}: body is not JSON: ${text.slice(0, 80)}`];
  }
  const ref = media.schema.$ref;
  const { ajv } = operations();
  const validate = ref ? ajv.getSchema(`${op.schemaId}${ref}`) : ajv.compile(media.schema);
  if (!validate(body)) {
    return [`${op.operationId} (${op.version}) ${status}: ${ajv.errorsText(validate.errors, { separator: "; " })}`];
  }
  return [];
}

/**
 * A transport for the official client that performs the request with the
 * client's own fetch library, checks the answer against the contract and
 * notes the operation for the coverage test.
 */
export class ContractCheckingHttp {
  constructor(IsomorphicFetchHttpLibrary, problems, responses) {
    this.inner = new IsomorphicFetchHttpLibrary();
    this.problems = problems;
    this.responses = responses;
  }

  async send(request) {
    this.inner.enableRetry = false;
    const res = await this.inner.send(request);
    const text = await res.body.text();
    const method = request.getHttpMethod();
    const url = request.getUrl();
    for (const p of checkResponse(method, url, res.httpStatusCode, res.headers["content-type"], text)) this.problems.push(p);
    const op = findOperation(method, new URL(url).pathname);
    if (op && this.responses) this.responses.push({ id: `${op.version}.${op.operationId}`, status: res.httpStatusCode, text });
    if (op && COVERAGE_FILE) {
      appendFileSync(COVERAGE_FILE, JSON.stringify({ id: `${op.version}.${op.operationId}`, status: res.httpStatusCode }) + "\n");
    }
    res.body = { text: async () => text, binary: async () => Buffer.from(text) };
    return res;
  }
}

// Where Datadog's API shows each kind of secret again after its creation
// (docs/datadog.md, "Where secrets are shown"). Tokens: never. API and
// application keys: never in these.
const TOKEN_SHOWN_IN = new Set(["v2.CreatePersonalAccessToken", "v2.CreateServiceAccountAccessToken"]);
const KEY_NEVER_IN = new Set([
  "v2.ListAPIKeys", "v2.ListApplicationKeys", "v2.ListCurrentUserApplicationKeys",
  "v2.ListServiceAccountApplicationKeys", "v2.GetApplicationKey", "v2.UpdateApplicationKey",
  "v2.GetServiceAccountApplicationKey", "v2.UpdateServiceAccountApplicationKey",
  "v2.ListPersonalAccessTokens", "v2.GetPersonalAccessToken", "v2.UpdatePersonalAccessToken",
  "v2.ListServiceAccountAccessTokens", "v2.GetServiceAccountAccessToken", "v2.UpdateServiceAccountAccessToken",
  "v2.ListUsers", "v2.GetUser", "v2.Validate", "v2.ValidateAPIKey", "v1.Validate",
]);

/** Secrets that appear in an answer where they must not: [{id, secret tail}]. */
export function leakedSecrets(responses, secrets) {
  const leaks = [];
  for (const secret of secrets) {
    const isToken = secret.startsWith("ddpat_") || secret.startsWith("ddsat_");
    for (const r of responses) {
      const forbidden = isToken ? !TOKEN_SHOWN_IN.has(r.id) : KEY_NEVER_IN.has(r.id);
      if (forbidden && r.text.includes(secret)) leaks.push(`${r.id} shows a secret ending ...${secret.slice(-4)}`);
    }
  }
  return leaks;
}
