// Ideas: suggestions of similar ideas while typing a title, and supports without a page load.
// Progressive enhancement only: every form works without this script.

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function renderSimilar(target, ideas) {
  target.textContent = "";
  if (!ideas.length) return;
  const heading = document.createElement("h2");
  heading.className = "govuk-heading-s";
  heading.textContent = "Similar ideas already suggested";
  const list = document.createElement("ul");
  list.className = "govuk-list";
  for (const idea of ideas) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.className = "govuk-link";
    link.href = idea.url;
    link.textContent = idea.title; // text, never HTML
    item.append(link, ` (${idea.supports} ${idea.supports === 1 ? "support" : "supports"})`);
    list.append(item);
  }
  const hint = document.createElement("p");
  hint.className = "govuk-body";
  hint.textContent = "If one of these is your idea, support it instead.";
  target.append(heading, list, hint);
}

function enhanceSimilar() {
  const input = document.querySelector("[data-similar-url]");
  const target = document.querySelector("[data-similar-target]");
  if (!input || !target) return;
  const url = input.getAttribute("data-similar-url");
  let last = "";
  const lookUp = debounce(async () => {
    const title = input.value.trim();
    if (title === last || title.length < 4) return;
    last = title;
    try {
      const response = await fetch(`${url}?title=${encodeURIComponent(title)}`, { headers: { Accept: "application/json" } });
      if (response.ok) renderSimilar(target, await response.json());
    } catch {
      // Suggestions are a help, not a step: say nothing if they fail.
    }
  }, 300);
  input.addEventListener("input", lookUp);
}

function plural(n, word) {
  return `${n.toLocaleString("en-GB")} ${word}${n === 1 ? "" : "s"}`;
}

function enhanceSupport() {
  const box = document.querySelector("[data-support]");
  if (!box) return;
  const form = box.querySelector("[data-support-form]");
  if (!form) return;
  const button = form.querySelector("button");
  const count = box.querySelector("[data-support-count]");
  const status = box.querySelector("[data-support-status]");
  const supportUrl = form.action.replace(/\/unsupport$/, "/support");
  const unsupportUrl = supportUrl.replace(/\/support$/, "/unsupport");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const data = await response.json();
      if (!response.ok) {
        status.textContent = data.error || "That did not work. Nothing was saved.";
        return;
      }
      count.textContent = plural(data.count, "support");
      form.action = data.supported ? unsupportUrl : supportUrl;
      button.textContent = data.supported ? "Withdraw my support" : "Support this idea";
      button.classList.toggle("govuk-button--secondary", data.supported);
      const note = form.querySelector("[data-support-note]");
      if (note) note.remove(); // the status line below says it now
      status.textContent = data.supported ? "You support this idea." : "You no longer support this idea.";
    } catch {
      form.submit(); // fall back to the plain form post
    } finally {
      button.disabled = false;
    }
  });
}

enhanceSimilar();
enhanceSupport();
