// Small enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.innerText).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// The behaviours below replace inline handlers (hx-on, onchange), which the Content-Security-Policy
// forbids: each is switched on by a data attribute in the template.

// A form whose select submits it on change (the organisation switcher).
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-submit-on-change]");
  if (select && select.form) select.form.requestSubmit();
});

// A checkbox that (un)ticks every box its table matches: data-select-all="tbody input[name=site]".
document.addEventListener("change", (event) => {
  const master = event.target.closest("input[data-select-all]");
  if (!master) return;
  master.closest("table").querySelectorAll(master.dataset.selectAll).forEach((box) => {
    box.checked = master.checked;
  });
});

// An invalid form answers 422 with its field errors: swap it like any answer.
document.addEventListener("htmx:beforeSwap", (event) => {
  const marked = (node) => node instanceof Element && node.closest("[data-swap-unprocessable]");
  if (event.detail.xhr.status === 422 && (marked(event.target) || marked(event.detail.elt))) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Inside data-mark-invalid, a field checked on its own is marked aria-invalid while refused.
document.addEventListener("htmx:afterRequest", (event) => {
  const input = event.detail.elt;
  if (!input.closest("[data-mark-invalid]") || !input.matches("input, select, textarea")) return;
  if (event.detail.xhr.status === 422) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
});

// Filters send only the fields that have a value, so the URL stays short and shareable.
document.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.elt.closest("[data-drop-empty-parameters]")) return;
  for (const [name, value] of Object.entries(event.detail.parameters)) {
    if (value === "") delete event.detail.parameters[name];
  }
});

// Progress bars take their width from aria-valuenow/aria-valuemax (no inline style attribute).
function drawProgressBars(root) {
  root.querySelectorAll(".progress[aria-valuenow]").forEach((bar) => {
    const now = Number(bar.getAttribute("aria-valuenow")) || 0;
    const max = Number(bar.getAttribute("aria-valuemax")) || 100;
    const fill = bar.querySelector(":scope > span");
    if (fill) fill.style.width = `${Math.min(100, (100 * now) / max)}%`;
  });
}
document.addEventListener("DOMContentLoaded", () => drawProgressBars(document));
document.addEventListener("htmx:load", (event) => drawProgressBars(event.detail.elt));

// On a phone a wide table scrolls sideways inside itself (portal.css): when nothing in it takes the
// keyboard's focus, the table does, so it can be scrolled without a mouse (WCAG 2.1.1). Only while
// it actually overflows: at full width it is no extra tab stop.
const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";
function focusWideTables(root) {
  root.querySelectorAll("main table").forEach((table) => {
    const scrolls = table.scrollWidth > table.clientWidth;
    if (scrolls && !table.hasAttribute("tabindex") && !table.querySelector(FOCUSABLE)) {
      table.setAttribute("tabindex", "0");
      table.dataset.scrollFocus = "";
    } else if (!scrolls && "scrollFocus" in table.dataset) {
      table.removeAttribute("tabindex");
      delete table.dataset.scrollFocus;
    }
  });
}
document.addEventListener("DOMContentLoaded", () => focusWideTables(document));
document.addEventListener("htmx:load", () => focusWideTables(document));
window.addEventListener("resize", () => focusWideTables(document));

// A poll swaps its region whole (hx-swap="outerHTML"): a live region that is replaced is not heard.
// What a region marks with data-announce (and an id) is said through #live-announcer, which stays,
// and only when it changed: not on the first load, not when a poll brings the same.
const announced = new Map();
function announceChanges(root, speak) {
  const marks = [...root.querySelectorAll("[data-announce][id]")];
  if (root.matches("[data-announce][id]")) marks.push(root);
  const announcer = document.getElementById("live-announcer");
  for (const mark of marks) {
    const text = mark.dataset.announce;
    if (speak && announcer && announced.get(mark.id) !== text) announcer.textContent = text;
    announced.set(mark.id, text);
  }
}
document.addEventListener("DOMContentLoaded", () => announceChanges(document.body, false));
document.addEventListener("htmx:load", (event) => {
  if (event.detail.elt !== document.body) announceChanges(event.detail.elt, true);
});
