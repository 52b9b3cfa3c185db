// carecoord's only script of its own. The Content Security Policy forbids inline handlers,
// so buttons declare what they do with data attributes and this file wires them up.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});

// A form that came back with errors: the focus goes to its summary, which names and links
// each error (the summary also has `autofocus`; this covers a page whose focus moved first,
// and forms swapped in by htmx). A link in it moves the focus to the field it names.
function focusErrorSummary(root) {
  const summary = root.querySelector("[data-error-summary]");
  if (summary instanceof HTMLElement) {
    summary.focus();
  }
}

document.addEventListener("DOMContentLoaded", () => focusErrorSummary(document));
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.target instanceof Element) {
    focusErrorSummary(event.target);
  }
});
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("[data-error-summary] a[href^='#']") : null;
  const field = link ? document.getElementById(link.getAttribute("href").slice(1)) : null;
  if (field) {
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus();
  }
});

// The dashboard's work queue arrives after the page (htmx). If it cannot (an error, no
// network), the placeholder says so, with its link to the lists on a page of their own.
function workQueueFailed(event) {
  const slot = event.detail ? event.detail.elt : null;
  if (!(slot instanceof HTMLElement) || slot.id !== "work-queue") {
    return;
  }
  slot.removeAttribute("aria-busy");
  slot.querySelector("[data-queue-pending]")?.setAttribute("hidden", "");
  slot.querySelector("[data-queue-failed]")?.removeAttribute("hidden");
}
document.addEventListener("htmx:responseError", workQueueFailed);
document.addEventListener("htmx:sendError", workQueueFailed);

// A link to a folded section (`<details id="assess-form">`, "Reassess" on the record page)
// opens it: otherwise it lands on the closed summary and asks one more click.
function openLinkedSection() {
  const target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  const section = target ? target.closest("details") : null;
  if (section instanceof HTMLDetailsElement) {
    section.open = true;
  }
}

document.addEventListener("DOMContentLoaded", openLinkedSection);
window.addEventListener("hashchange", openLinkedSection);

// The header's menu on a phone (a <details>, which opens and closes without this script):
// Escape folds it again and leaves the focus on its button. A wide screen shows the menu
// with no button, so there is nothing to fold.
document.addEventListener("keydown", (event) => {
  const inside = event.key === "Escape" && event.target instanceof Element;
  const menu = inside ? event.target.closest(".site-menu[open]") : null;
  const toggle = menu ? menu.querySelector("summary") : null;
  if (toggle instanceof HTMLElement && toggle.getClientRects().length > 0) {
    menu.open = false;
    toggle.focus();
  }
});
