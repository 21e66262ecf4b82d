"use strict";
// The studio page: draws the state the server sends (a whole snapshot per event) and posts the form and the render button.
(function () {
  const byId = (id) => document.getElementById(id);
  const cards = new Map(); // key -> {root, video, identity, preview}
  let formShown = "";
  let sending = null;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  }

  function drawProblems(problems, warnings) {
    const list = byId("problem-list");
    list.replaceChildren(...problems.map((line) => element("li", "", line)));
    byId("problems").hidden = problems.length === 0;
    byId("warning-list").replaceChildren(...warnings.map((line) => element("li", "", "warning: " + line)));
    byId("warnings").hidden = warnings.length === 0;
  }

  function drawCard(card) {
    let shown = cards.get(card.key);
    if (!shown) {
      const root = element("article", "card");
      root.dataset.key = card.key;
      shown = { root, media: null, preview: null };
      cards.set(card.key, shown);
    }
    const root = shown.root;
    root.dataset.identity = card.identity;
    root.dataset.status = card.status;
    if (card.preview !== shown.preview) {
      shown.preview = card.preview;
      let media;
      if (card.preview) {
        media = element("video");
        media.muted = true;
        media.playsInline = true;
        media.autoplay = true;
        media.controls = true;
        media.preload = "auto";
        if (card.poster) media.poster = card.poster;
        media.src = card.preview;
        // Play to the end, rest a moment, play again: the page keeps showing every draft moving.
        media.addEventListener("ended", () => setTimeout(() => media.play().catch(() => {}), 1500));
      } else {
        media = element("div", "blank", "no preview yet");
      }
      if (shown.media) shown.media.replaceWith(media); else root.prepend(media);
      shown.media = media;
    }
    const details = element("div", "details");
    const title = element("h3", "", card.label + " ");
    title.append(element("span", "status " + card.status, card.status));
    details.append(title, element("p", "length muted", "planned length " + card.length_s.toFixed(1) + " s"));
    const steps = element("ol", "steps");
    for (const step of card.steps) {
      const item = element("li", "step", step.name + ": " + step.text);
      if (step.understood) item.append(element("div", "understood", "understood: " + step.understood));
      steps.append(item);
    }
    details.append(steps);
    if (card.error) details.append(element("p", "error", card.error));
    for (const warning of card.warnings) details.append(element("p", "warning", "warning: " + warning));
    const old = root.querySelector(".details");
    if (old) old.replaceWith(details); else root.append(details);
    return root;
  }

  function drawCards(list) {
    const keys = new Set(list.map((card) => card.key));
    for (const key of [...cards.keys()]) {
      if (!keys.has(key)) { cards.get(key).root.remove(); cards.delete(key); }
    }
    const grid = byId("cards");
    list.forEach((card, index) => {
      const root = drawCard(card);
      if (grid.children[index] !== root) grid.insertBefore(root, grid.children[index] || null);
    });
  }

  function drawVars(vars, flags) {
    const form = byId("vars");
    byId("vars-section").hidden = vars.length === 0;
    byId("flags").textContent = flags || "(the recipe's own values)";
    const shape = JSON.stringify(vars.map((v) => v.name));
    if (shape !== formShown) {
      formShown = shape;
      form.replaceChildren();
      for (const v of vars) {
        const id = "var-" + v.name;
        const label = element("label", "", v.name);
        label.htmlFor = id;
        const input = element("input");
        input.id = id;
        input.name = v.name;
        input.placeholder = v.default;
        input.addEventListener("input", sendVars);
        form.append(label, input);
      }
    }
    for (const v of vars) {
      const input = form.elements.namedItem(v.name);
      if (input && document.activeElement !== input) input.value = v.value;
    }
  }

  function sendVars() {
    clearTimeout(sending);
    sending = setTimeout(() => {
      const values = {};
      for (const input of byId("vars").querySelectorAll("input")) values[input.name] = input.value;
      post("/api/vars", { vars: values }).then((answer) => answer.json()).then((answer) => {
        byId("flags").textContent = answer.flags || "(the recipe's own values)";
      }).catch(() => {});
    }, 300);
  }

  function drawRender(render, backend) {
    const button = byId("render");
    button.disabled = render.running;
    // A cloud recipe's finals are paid for: the button says so before it is pressed.
    button.textContent = backend && backend !== "local" ? "Render finals on " + backend + " (spends credits)" : "Render finals";
    const done = render.finals.filter((f) => f.status === "done" || f.status === "skipped").length;
    let status = "";
    if (render.running) status = "rendering: " + done + " of " + render.total + " done";
    else if (render.total) status = "finished: " + done + " of " + render.total + " done";
    if (render.error) status += " (" + render.error + ")";
    byId("render-status").textContent = status;
    byId("finals").replaceChildren(...render.finals.map((final) => {
      const item = element("li");
      if (final.url) {
        const link = element("a", "", final.label);
        link.href = final.url;
        link.target = "_blank";
        link.rel = "noopener";
        item.append(link, " " + final.status);
      } else {
        item.textContent = final.label + " " + final.status;
      }
      if (final.error) item.append(element("span", "error", " " + final.error));
      return item;
    }));
    byId("report-line").hidden = !render.report;
    if (render.report) byId("report").href = render.report;
  }

  function draw(state) {
    byId("recipe").textContent = state.recipe;
    document.title = state.recipe + ": joypix studio";
    document.body.dataset.version = state.version;
    drawProblems(state.problems, state.warnings);
    drawVars(state.vars, state.flags);
    drawCards(state.cards);
    drawRender(state.render, state.backend);
  }

  function connect() {
    const events = new EventSource("/api/events");
    events.addEventListener("state", (event) => draw(JSON.parse(event.data)));
    events.addEventListener("open", () => { byId("connection").textContent = "watching for changes"; });
    events.addEventListener("error", () => { byId("connection").textContent = "reconnecting…"; });
  }

  document.addEventListener("DOMContentLoaded", () => {
    byId("render").addEventListener("click", () => {
      byId("render").disabled = true;
      post("/api/render", {}).catch(() => {});
    });
    connect();
  });
})();
