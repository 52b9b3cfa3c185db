// carecoord's only script of its own. The Content Security Policy forbids inline handlers,
// so buttons declare what they do with data attributes and this file wires them up.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});
