/* Small progressive enhancements; the portal works without them. Loaded from 'self' (CSP). */
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  // After a refused form, take keyboard and screen-reader users straight to the error summary.
  var summary = document.getElementById("formulierfouten");
  if (summary) {
    summary.focus();
  }
  // The review queue's bulk decision appears once a report is ticked, and counts them.
  var bar = document.getElementById("bulkbalk");
  var bulkForm = document.getElementById("bulkformulier");
  if (bar && bulkForm) {
    var counter = bar.querySelector("[data-selected-count]");
    var update = function () {
      var ticked = bulkForm.querySelectorAll("input[name='selected']:checked").length;
      bar.classList.toggle("active", ticked > 0);
      counter.textContent = ticked === 1 ? "1 rapportage gekozen" : ticked + " rapportages gekozen";
    };
    bulkForm.addEventListener("change", update);
    document.body.addEventListener("htmx:afterSettle", update);
    update();
  }
  // A file picker says in Dutch which file is chosen.
  document.querySelectorAll(".file-picker input[type='file']").forEach(function (input) {
    var name = input.parentNode.querySelector(".file-name");
    input.addEventListener("change", function () {
      name.textContent = input.files && input.files.length ? input.files[0].name : "Geen bestand gekozen";
    });
  });
  // On narrow screens the main menu folds behind a "Menu" button (CSS shows the button there only).
  var button = document.querySelector(".main-nav .menu-button");
  if (button) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.closest(".main-nav").classList.toggle("open", open);
    });
  }
});
