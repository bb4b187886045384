/* Small progressive enhancements; the portal works without them. Loaded from 'self' (CSP). */
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  // After a refused form, take keyboard and screen-reader users straight to the error summary.
  var summary = document.getElementById("formulierfouten");
  if (summary) {
    summary.focus();
  }
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
