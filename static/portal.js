/* Small progressive enhancements; the portal works without them. Loaded from 'self' (CSP). */
document.addEventListener("DOMContentLoaded", function () {
  // After a refused form, take keyboard and screen-reader users straight to the error summary.
  var summary = document.getElementById("formulierfouten");
  if (summary) {
    summary.focus();
  }
});
