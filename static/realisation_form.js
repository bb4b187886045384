/* Realisation web form (realisatie invoeren): a row re-rendered by the server after its check must
   never undo what the user typed meanwhile. The server echoes the values it was sent; anything typed
   after the request left is put back right after the swap, and once htmx has settled the row is
   checked again. */
(function () {
  var rowId = null;
  var typed = {};
  var recheck = null;

  function formRow(element) {
    return element && element.closest && element.closest(".table-form-rows") && element.tagName === "TR" ? element : null;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var row = formRow(event.detail.target);
    if (!row) { return; }
    rowId = row.id;
    typed = {};
    row.querySelectorAll("input").forEach(function (input) { typed[input.id] = input.value; });
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (!rowId) { return; }
    var row = document.getElementById(rowId);
    rowId = null;
    if (!row) { return; }
    var changed = false;
    row.querySelectorAll("input").forEach(function (input) {
      if (Object.prototype.hasOwnProperty.call(typed, input.id) && typed[input.id] !== input.value) {
        input.value = typed[input.id];
        changed = true;
      }
    });
    typed = {};
    if (changed) { recheck = row.id; }
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!recheck) { return; }
    var row = document.getElementById(recheck);
    recheck = null;
    if (row) { row.dispatchEvent(new Event("change", { bubbles: true })); }
  });
})();
