// Shared by every page: a filter <select data-autosubmit> reloads its form when changed.
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
