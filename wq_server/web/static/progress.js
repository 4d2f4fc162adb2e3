// 进度: a township's villages open and close under its row.
document.querySelectorAll("button.toggle").forEach(function (button) {
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    button.textContent = (open ? "▾ " : "▸ ") + button.textContent.slice(2);
    document.querySelectorAll('tr[data-parent="' + button.dataset.toggle + '"]').forEach(function (row) {
      row.hidden = !open;
    });
  });
});
