// extensions.js - THE PLACE FOR keyhold's own extensions beyond rotation:
// usage, history, leak reports and webhooks are being built on other
// branches. When one lands, give it a page module like tokens.js and add it
// to PAGES in app.js; until then this page says what is coming, and no page
// calls their routes (so the console works on a server without them).
import { h, pageHeader } from "./ui.js";

export const PLANNED = [
  ["Usage", "Which clients use a credential, and how often (who still uses a token before it is revoked)."],
  ["History", "A credential's changes over time."],
  ["Leaks", "Reports of secrets found where they should not be, and what was done."],
  ["Webhooks", "Notices to your own endpoints when credentials change."],
];

export function render(main) {
  main.append(pageHeader("More", "keyhold's own extensions of Datadog's API."),
    h("section", { "aria-labelledby": "rot-h" }, h("h2", { id: "rot-h", text: "Rotation" }),
      h("p", { text: "Available: every token and key list has a Rotate action (POST /api/v2/keyhold/credentials/{id}/rotate)." })),
    h("section", { "aria-labelledby": "soon-h" }, h("h2", { id: "soon-h", text: "Coming with later builds" }),
      h("ul", {}, PLANNED.map(([t, d]) => h("li", {}, h("strong", { text: `${t}: ` }), d)))));
}
