// extensions.js - THE PLACE FOR keyhold's own extensions that have no page
// yet. Rotation (a Rotate action on every list), usage (who still uses a
// credential, in every revoke and delete confirmation, usage.js) and history
// (history.js) and leaks (leaks.js) are in; webhooks are being built on
// another branch. When it lands, give it a page module like history.js and add it
// to PAGES in app.js; until then no page calls its routes, so the console
// works on a server without them.
import { h, pageHeader } from "./ui.js";

export const PLANNED = [
  ["Webhooks", "Notices to your own endpoints when credentials change."],
];

export function render(main) {
  main.append(pageHeader("More", "keyhold's own extensions of Datadog's API."),
    h("section", { "aria-labelledby": "in-h" }, h("h2", { id: "in-h", text: "In this console" }),
      h("ul", {},
        h("li", {}, h("strong", { text: "Rotation: " }), "every token and key list has a Rotate action (POST /api/v2/keyhold/credentials/{id}/rotate)."),
        h("li", {}, h("strong", { text: "Usage: " }), "every revoke and delete confirmation says who used the credential lately (GET /api/v2/keyhold/credentials/{id}/usage)."),
        h("li", {}, h("strong", { text: "History: " }), h("a", { href: "#/history", text: "the History page" }), " lists what ended, when, by whom and why (GET /api/v2/keyhold/credentials)."),
        h("li", {}, h("strong", { text: "Leaks: " }), h("a", { href: "#/leaks", text: "the Leaks page" }), " shows reported credentials, the leak policy, and takes a report (/api/v2/keyhold/leaks)."))),
    h("section", { "aria-labelledby": "soon-h" }, h("h2", { id: "soon-h", text: "Coming with later builds" }),
      h("ul", {}, PLANNED.map(([t, d]) => h("li", {}, h("strong", { text: `${t}: ` }), d)))));
}
