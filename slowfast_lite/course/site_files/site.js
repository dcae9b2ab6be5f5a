// The site's two behaviours: a Copy button on every code block, and the search box over window.SF_SEARCH
// (written by site.py into search_index.js). Plain script, no library, nothing fetched: works offline and
// from file://.
(function () {
  "use strict";

  function copyText(text, button) {
    const done = () => {
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
    } else {
      fallbackCopy(text, done);
    }
  }

  function fallbackCopy(text, done) {  // file:// pages have no clipboard API
    const area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    done();
  }

  function addCopyButtons() {
    const blocks = document.querySelectorAll(
      ".jp-InputArea-editor pre, .jp-RenderedMarkdown pre, .sf-run pre");
    blocks.forEach((pre) => {
      let holder = pre.parentElement;
      if (!holder.classList.contains("highlight")) {  // a bare <pre>: wrap it so the button is not part of the code
        holder = document.createElement("div");
        pre.replaceWith(holder);
        holder.appendChild(pre);
      }
      holder.classList.add("sf-copyable");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sf-copy";
      button.textContent = "Copy";
      button.title = "Copy the code";
      button.addEventListener("click", () => copyText(pre.textContent.replace(/\n$/, ""), button));
      holder.appendChild(button);
    });
  }

  function search(query) {
    const words = query.toLowerCase().split(/\s+/).filter((w) => w.length > 1);
    if (!words.length || !window.SF_SEARCH) return [];
    const hits = [];
    window.SF_SEARCH.forEach((entry, order) => {
      const title = (entry.page + " " + entry.section).toLowerCase();
      const text = entry.text.toLowerCase();
      let score = 0;
      for (const word of words) {
        const inTitle = title.includes(word);
        const inText = text.includes(word);
        if (!inTitle && !inText) return;  // every word must occur
        score += (inTitle ? 10 : 0) + (inText ? 1 : 0);
      }
      hits.push({ entry, score, order });
    });
    hits.sort((a, b) => b.score - a.score || a.order - b.order);
    return hits.slice(0, 20).map((hit) => ({ entry: hit.entry, snippet: snippet(hit.entry.text, words[0]) }));
  }

  function snippet(text, word) {
    const at = text.toLowerCase().indexOf(word);
    if (at < 0) return text.slice(0, 140);
    const start = Math.max(0, at - 60);
    return (start > 0 ? "…" : "") + text.slice(start, at + 80) + "…";
  }

  function showResults(list, results) {
    list.replaceChildren();
    list.hidden = results.length === 0;
    for (const { entry, snippet: text } of results) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = entry.url;
      const where = document.createElement("span");
      where.className = "sf-result-page";
      where.textContent = entry.page;
      link.appendChild(where);
      if (entry.section && entry.section !== entry.page) {
        link.appendChild(document.createTextNode(" › " + entry.section));
      }
      const context = document.createElement("small");
      context.textContent = text;
      item.append(link, context);
      list.appendChild(item);
    }
  }

  function setUpSearch() {
    const box = document.getElementById("sf-search");
    const list = document.getElementById("sf-search-results");
    if (!box || !list) return;
    box.addEventListener("input", () => showResults(list, search(box.value)));
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        const first = list.querySelector("a");
        if (first) window.location.href = first.href;
      } else if (event.key === "Escape") {
        box.value = "";
        showResults(list, []);
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "/" && document.activeElement !== box) {
        event.preventDefault();
        box.focus();
      }
    });
  }

  addCopyButtons();
  setUpSearch();
})();
