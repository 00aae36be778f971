// SMT web interface: progressive enhancement only (every page works without this file).
(function () {
  "use strict";

  // Trees: a <details data-children="URL"> loads the concept's children the first time it is opened.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.open || !details.dataset.children) return;
    var url = details.dataset.children;
    delete details.dataset.children;
    var holder = details.querySelector(".smt-children");
    holder.setAttribute("aria-busy", "true");
    fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) { holder.innerHTML = html; })
      .catch(function () { details.dataset.children = url; })
      .finally(function () { holder.removeAttribute("aria-busy"); });
  }, true);

  // A choice that changes the rest of the form (the composer's terminology) reloads the whole page.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field && field.matches && field.matches("[data-smt-submit]") && field.form) {
      event.stopPropagation();
      field.form.requestSubmit();
    }
  }, true);

  // Keep the address bar in step with live-updated forms (htmx swaps), so the URL stays pasteable.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-smt-live]");
    if (form && event.detail.successful) {
      var params = new URLSearchParams(new FormData(form));
      history.replaceState(null, "", form.getAttribute("action") + "?" + params.toString());
    }
  });
})();
