// ui.js - the few building blocks every page uses: elements made with
// textContent only (no innerHTML anywhere, so nothing the API returns can
// become markup), form fields with real labels, lists with loading, empty
// and error states and paging through the API, and modal dialogs (the
// native <dialog>: focus moves in, Escape closes, focus returns).

let nextId = 0;
/** A fresh element id, for label/for and aria-describedby pairs. */
export const uid = (prefix = "f") => `${prefix}${++nextId}`;

/** h("button", {class: "x", onclick: fn}, "text", child): an element. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** A labelled field: {label, input, hint}. The input gets an id if it has none. */
export function field(label, input, hint) {
  if (!input.id) input.id = uid();
  const wrap = h("div", { class: "field" }, h("label", { for: input.id, text: label }), input);
  if (hint) {
    const hid = uid("hint");
    input.setAttribute("aria-describedby", hid);
    wrap.append(h("p", { class: "hint", id: hid, text: hint }));
  }
  return wrap;
}

export function fmtDate(iso) {
  if (!iso) return "never";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

// One polite live region for the whole console: outcomes ("Token renamed")
// are read out by screen readers without moving focus.
export function announce(message) {
  const live = document.getElementById("live");
  if (!live) return;
  live.textContent = "";
  setTimeout(() => { live.textContent = message; }, 30);
}

/** The API's message for an error, as shown to the user. */
export function errorText(e) {
  if (e && e.status) return `${e.status}: ${e.message}`;
  return e && e.message ? e.message : String(e);
}

export const loadingBox = (what = "Loading…") => h("p", { class: "state loading", role: "status", text: what });
export const errorBox = (e) => h("p", { class: "state error", role: "alert", text: errorText(e) });
export const emptyBox = (text) => h("p", { class: "state empty", text });

/**
 * A table that pages through the API, one page in memory at a time.
 * load(page) resolves {rows, total?, more?} for page numbers from 0; a
 * cursor API keeps its own cursors and says `more`. columns: [{label, cell}].
 */
export function pagedTable({ caption, columns, load, empty, pageSize = 10 }) {
  // Only the state line speaks (role status/alert); the table itself is not
  // a live region, or every page turn would read out every row.
  const region = h("div", { class: "list", "aria-busy": "false" });
  const status = h("div");
  const table = h("table");
  const prev = h("button", { type: "button", class: "secondary", text: "Previous page" });
  const next = h("button", { type: "button", class: "secondary", text: "Next page" });
  const where = h("span", { class: "page-where" });
  const pager = h("nav", { class: "pager", "aria-label": `${caption} pages` }, prev, where, next);
  region.append(status, table, pager);
  let page = 0;

  async function show(n) {
    page = n;
    region.setAttribute("aria-busy", "true");
    clear(status).append(loadingBox());
    let result;
    try {
      result = await load(page, pageSize);
    } catch (e) {
      clear(table);
      pager.hidden = true;
      clear(status).append(errorBox(e));
      region.setAttribute("aria-busy", "false");
      return;
    }
    clear(status);
    clear(table);
    region.setAttribute("aria-busy", "false");
    const { rows, total, more } = result;
    if (!rows.length && page === 0) {
      pager.hidden = true;
      status.append(emptyBox(empty));
      return;
    }
    table.append(
      h("caption", { text: caption }),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", text: c.label })))),
      h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => h("td", { "data-label": c.label }, c.cell(r)))))),
    );
    const pages = total !== undefined ? Math.max(1, Math.ceil(total / pageSize)) : undefined;
    const hasNext = more !== undefined ? more : pages !== undefined && page + 1 < pages;
    pager.hidden = page === 0 && !hasNext;
    prev.disabled = page === 0;
    next.disabled = !hasNext;
    where.textContent = pages !== undefined ? `Page ${page + 1} of ${pages} (${total} in all)` : `Page ${page + 1}`;
  }
  prev.addEventListener("click", () => show(page - 1));
  next.addEventListener("click", () => show(page + 1));
  return { element: region, reload: (n = 0) => show(n), refresh: () => show(page) };
}

/**
 * A modal dialog; resolves with the value of the button that closed it
 * ("" for Escape). body: nodes; actions: [{label, value, kind}]. onSubmit,
 * when given, runs for a "submit" action and may throw to keep it open
 * (its message shown in the dialog).
 */
export function dialog({ title, body = [], actions = [{ label: "Close", value: "close" }], onSubmit }) {
  const titleId = uid("dlg");
  const problem = h("p", { class: "state error", role: "alert", hidden: true });
  const buttons = actions.map((a) => h("button", { type: a.value === "submit" ? "submit" : "button",
    class: a.kind || (a.value === "submit" ? "primary" : "secondary"), value: a.value, text: a.label }));
  const form = h("form", { method: "dialog" }, h("h2", { id: titleId, text: title }), ...body, problem,
    h("div", { class: "actions" }, buttons));
  const dlg = h("dialog", { "aria-labelledby": titleId }, form);
  document.body.append(dlg);
  return new Promise((resolve) => {
    const done = (value) => {
      dlg.close();
      dlg.remove();
      resolve(value);
    };
    for (const b of buttons) {
      if (b.type === "submit") continue;
      b.addEventListener("click", () => done(b.value));
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!onSubmit) return done("submit");
      const submit = buttons.find((b) => b.type === "submit");
      submit.disabled = true;
      problem.hidden = true;
      try {
        await onSubmit();
        done("submit");
      } catch (e) {
        problem.textContent = errorText(e);
        problem.hidden = false;
        submit.disabled = false;
      }
    });
    dlg.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      done("");
    });
    dlg.showModal();
  });
}

/** Asks before something that cannot be undone; resolves true to go ahead. */
export async function confirmAction(title, lines, label) {
  const v = await dialog({ title, body: lines.map((l) => (l instanceof Node ? l : h("p", { text: l }))),
    actions: [{ label: "Cancel", value: "cancel" }, { label, value: "go", kind: "danger" }] });
  return v === "go";
}

/**
 * Shows a new secret once: it is in this dialog's DOM only, never stored,
 * and gone when the dialog closes (reloading cannot bring it back).
 */
export async function showSecret(title, secret, what) {
  const input = h("input", { type: "text", readonly: true, value: secret, class: "secret", spellcheck: "false",
    autocomplete: "off" });
  const copied = h("span", { class: "hint", role: "status" });
  const copy = h("button", { type: "button", class: "secondary", text: "Copy" , onclick: async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(secret);
      copied.textContent = "Copied.";
    } catch {
      copied.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  } });
  await dialog({ title, body: [
    h("p", { class: "warning", role: "note" }, h("strong", { text: "Copy it now. " }),
      `This ${what} is shown only this once: keyhold keeps only a hash of it and cannot show it again.`),
    field(`New ${what}`, input), h("div", { class: "row" }, copy, copied),
  ], actions: [{ label: "I have copied it", value: "done", kind: "primary" }] });
}

/** A small button for a row action; label names the row for screen readers. */
export const rowButton = (text, label, onclick, kind = "secondary") =>
  h("button", { type: "button", class: `small ${kind}`, "aria-label": label, text, onclick });

/** A page heading with its intro and the page's main actions. */
export function pageHeader(title, intro, ...actions) {
  return h("header", { class: "page-header" }, h("div", {}, h("h1", { text: title, tabindex: "-1" }),
    intro ? h("p", { class: "intro", text: intro }) : null), h("div", { class: "row" }, actions));
}
