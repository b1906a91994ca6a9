// Progressive enhancement only: every page works without this file.

// Filters and the language choice apply as soon as they change.
for (const el of document.querySelectorAll("[data-autosubmit]")) {
  el.addEventListener("change", () => el.form?.requestSubmit());
}
// Times in the viewer's own timezone.
for (const el of document.querySelectorAll("time[data-local]")) {
  const at = new Date(el.getAttribute("datetime"));
  if (!Number.isNaN(at.getTime())) el.textContent = at.toLocaleString(document.documentElement.lang);
}
// The queue polls for cases newer than the page shows and offers a reload instead of moving rows under the pointer.
const notice = document.querySelector("[data-poll]");
if (notice) {
  setInterval(async () => {
    try {
      const res = await fetch(notice.getAttribute("data-poll"), { credentials: "same-origin" });
      if (!res.ok) return;
      const { newest } = await res.json();
      if (newest && newest !== notice.getAttribute("data-newest")) notice.hidden = false;
    } catch {}
  }, 15000);
}
