"use strict";
// Drives the JSON API from the pages. Text reaches the page only through textContent.

const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

// The page's language: its strings come from the server's catalogue, in a JSON block.
let strings = {};
function t(key, values = {}) {
  return String(strings[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

async function api(method, url, body, headers = {}) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (_) { /* not JSON: keep null */ }
  if (!response.ok) {
    const error = new Error((data && data.error && data.error.message) || t("server", { status: response.status }));
    error.fields = (data && data.error && data.error.fields) || [];
    error.status = response.status;
    error.code = data && data.error && data.error.code;
    throw error;
  }
  return data;
}

// One Idempotency-Key per thing the person did: a repeat of it (a double-click, a retry) makes nothing twice.
function newKey() {
  if (window.crypto.randomUUID) return window.crypto.randomUUID();
  return Array.from(window.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// A button that sends a request is disabled and marked busy until the answer: one click, one request.
// `action` answers true when the page is leaving (the button stays busy until it has gone).
async function busy(button, action) {
  if (button.disabled) return;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  let leaving = false;
  try { leaving = await action(); } finally {
    if (!leaving) { button.disabled = false; button.removeAttribute("aria-busy"); }
  }
}

// A message next to the button that was pressed (its parent's .error, else the nearest one after it).
function messageFor(button) {
  return button.parentElement.querySelector(".error");
}

// Characters as Python counts them (code points), so the page and the server agree on a limit.
const characters = (text) => Array.from(text).length;

// A live count under a text box with a limit; over the limit it says so (and the form refuses to send).
function setUpLimit(field) {
  const limit = Number(field.dataset.limit);
  const counter = document.getElementById(`${field.id}-count`);
  const show = () => {
    const count = characters(field.value);
    const over = count > limit;
    counter.textContent = over ? t("too_long", { count, limit }) : t("characters", { count, limit });
    counter.classList.toggle("over", over);
    if (over) field.setAttribute("aria-invalid", "true"); else field.removeAttribute("aria-invalid");
    return !over;
  };
  field.addEventListener("input", show);
  show();
  return show;
}

// A render's status once it differs from what the page last saw: the server holds the
// request up to 20 s until the status changes (a long poll, 304 Not Modified while it does
// not). Requests start at least a second apart, so a server that answers at once (too many
// waiting, or a proxy that does not wait) is asked no more often than the page polled before.
const renderStatusSeen = new Map(); // render id -> { etag, asked }
async function renderStatusChange(id) {
  for (;;) {
    const seen = renderStatusSeen.get(id) || { etag: null, asked: 0 };
    const pause = seen.asked + 1000 - Date.now();
    if (pause > 0) await new Promise((resolve) => { setTimeout(resolve, pause); });
    const asked = Date.now();
    const response = await fetch(`/api/renders/${id}?wait=20`, {
      credentials: "same-origin",
      headers: seen.etag ? { "If-None-Match": seen.etag } : {},
    });
    renderStatusSeen.set(id, { etag: seen.etag, asked });
    if (response.status === 304) continue;
    if (!response.ok) throw new Error(t("server", { status: response.status }));
    renderStatusSeen.set(id, { etag: response.headers.get("ETag"), asked });
    return response.json();
  }
}

function showErrors(form, error) {
  form.querySelectorAll(".error").forEach((node) => { node.textContent = ""; });
  let placed = false;
  for (const { field, message } of error.fields || []) {
    const shot = /^shots\.(\d+)\.(\w+)$/.exec(field);
    let node = null;
    if (shot) {
      const item = form.querySelectorAll("li.shot")[Number(shot[1])];
      node = item && item.querySelector(`[data-shot-field="${shot[2]}"]`);
    } else {
      node = form.querySelector(`[data-field="${field.split(".")[0]}"]`);
    }
    if (node) { node.textContent = message; placed = true; }
  }
  if (!placed) form.querySelector('[data-field="form"]').textContent = error.message;
}

function valueOrNull(form, name) {
  const value = form.elements[name].value.trim();
  return value === "" ? null : value;
}

function setUpNewScene(form) {
  const limits = Array.from(form.querySelectorAll("[data-limit]"), (field) => [field, setUpLimit(field)]);
  const submit = form.querySelector("button[type=submit]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const over = limits.find(([, within]) => !within());
    if (over) { over[0].focus(); return; }
    const key = newKey();
    busy(submit, async () => {
      try {
        const scene = await api("POST", "/api/scenes", {
          text: form.elements.text.value, book: valueOrNull(form, "book"),
          author: valueOrNull(form, "author"), passage: valueOrNull(form, "passage"),
        }, { "Idempotency-Key": key });
        window.location.assign(`/scenes/${scene.id}`);
        return true;
      } catch (error) { showErrors(form, error); return false; }
    });
  });
}

// Typed answers are kept in the tab's session storage until they are sent: a reload keeps them.
function setUpAnswers(form, sceneId) {
  const stored = `animbooks:answers:${sceneId}`;
  const areas = Array.from(form.querySelectorAll("textarea"));
  let kept = {};
  try { kept = JSON.parse(window.sessionStorage.getItem(stored) || "{}"); } catch (_) { kept = {}; }
  areas.forEach((area) => { if (kept[area.name] && !area.value) area.value = kept[area.name]; });
  form.addEventListener("input", () => {
    const answers = {};
    areas.forEach((area) => { answers[area.name] = area.value; });
    try { window.sessionStorage.setItem(stored, JSON.stringify(answers)); } catch (_) { /* storage full or off */ }
  });
  const forget = () => { try { window.sessionStorage.removeItem(stored); } catch (_) { /* nothing kept */ } };
  const submit = form.querySelector("button[type=submit]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const answers = {};
    areas.forEach((area) => { answers[area.name] = area.value; });
    busy(submit, async () => {
      try {
        await api("POST", `/api/scenes/${sceneId}/answers`, { answers });
        forget();
        window.location.reload();
        return true;
      } catch (error) { showErrors(form, error); return false; }
    });
  });
  const skip = document.getElementById("skip");
  skip.addEventListener("click", (event) => {
    event.preventDefault(); // a submit button too, for the page without script
    busy(skip, async () => {
      try {
        await api("POST", `/api/scenes/${sceneId}/finish`);
        forget();
        window.location.reload();
        return true;
      } catch (error) { showErrors(form, error); return false; }
    });
  });
}

function setUpStoryboard(form, data) {
  const list = document.getElementById("shots");
  const template = document.getElementById("shot-template");
  const storyboard = data.storyboard;
  let version = data.version;
  let unsaved = false;
  form.elements.title.value = storyboard.title;
  form.elements.style.value = storyboard.style;
  form.elements.negative_prompt.value = storyboard.negative_prompt;
  form.elements.seed.value = storyboard.seed;
  form.elements.aspect.value = storyboard.aspect;
  form.elements.clip_seconds.value = String(storyboard.clip_seconds);
  // The clip's length as chosen now: the timeline, its scale, the heading and the shots allowed follow it.
  const clipSeconds = () => Number(form.elements.clip_seconds.value) || 15;
  const maxShots = () => (data.shots_per_15_seconds * clipSeconds()) / 15;

  const addShot = (shot) => {
    const item = template.content.firstElementChild.cloneNode(true);
    item.querySelector('[name="start_s"]').value = shot.start_s;
    item.querySelector('[name="camera"]').value = shot.camera || "";
    item.querySelector('[name="prompt"]').value = shot.prompt;
    item.querySelector('[name="quote"]').value = shot.quote || "";
    item.querySelector(".remove-shot").addEventListener("click", () => {
      // Focus stays in the shots: on the next shot's Remove, else the one before, else Add a shot.
      const neighbour = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      unsaved = true;
      (neighbour ? neighbour.querySelector(".remove-shot") : document.getElementById("add-shot")).focus();
      countTokens();
      drawTimeline();
    });
    list.appendChild(item);
    drawTimeline();
  };
  // The shots on the clip's seconds: each from its start to the next one's (or the end).
  const timeline = document.getElementById("timeline");
  const drawTimeline = () => {
    if (!timeline) return;
    const length = clipSeconds();
    document.getElementById("shots-heading").textContent = t("shots_heading", { seconds: length });
    Array.from(document.getElementById("timeline-scale").children).forEach((mark, third) => {
      mark.textContent = t("seconds", { seconds: Math.floor((length * third) / 3) });
    });
    const starts = Array.from(list.children).map((item) => Number(item.querySelector('[name="start_s"]').value) || 0);
    timeline.replaceChildren(...starts.map((start, index) => {
      const end = index + 1 < starts.length ? Math.max(start, starts[index + 1]) : length;
      const segment = document.createElement("span");
      segment.className = "segment";
      segment.dataset.start = String(start);
      segment.textContent = String(index + 1);
      segment.title = t("shot_span", { number: index + 1, start, end });
      // CSSOM positions (not a style attribute): the CSP allows these.
      segment.style.left = `${(100 * Math.min(start, length)) / length}%`;
      segment.style.width = `${(100 * Math.max(0, Math.min(end, length) - start)) / length}%`;
      return segment;
    }));
    timeline.setAttribute("aria-label", starts.map((start, index) => t("shot_span", {
      number: index + 1, start, end: index + 1 < starts.length ? starts[index + 1] : length,
    })).join("; "));
  };
  storyboard.shots.forEach(addShot);
  document.getElementById("add-shot").addEventListener("click", () => {
    if (list.children.length >= maxShots()) return;
    const last = list.lastElementChild;
    const start = last ? Math.min(clipSeconds() - 1, Number(last.querySelector('[name="start_s"]').value) + 2) : 0;
    addShot({ start_s: start, prompt: "", camera: "" });
    unsaved = true;
  });

  const read = () => ({
    title: form.elements.title.value,
    book: storyboard.book,
    author: storyboard.author,
    style: form.elements.style.value,
    negative_prompt: form.elements.negative_prompt.value,
    seed: Number(form.elements.seed.value),
    aspect: form.elements.aspect.value,
    clip_seconds: clipSeconds(),
    shots: Array.from(list.children).map((item) => ({
      start_s: Number(item.querySelector('[name="start_s"]').value),
      prompt: item.querySelector('[name="prompt"]').value,
      camera: item.querySelector('[name="camera"]').value.trim() || null,
      quote: item.querySelector('[name="quote"]').value.trim() || null,
    })),
  });

  let timer = null;
  const countTokens = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const current = read();
      const texts = current.shots.map((s) => [s.prompt, s.camera, current.style].filter(Boolean).join(", "));
      try {
        const result = await api("POST", "/api/prompt-tokens", { texts });
        Array.from(list.children).forEach((item, index) => {
          const node = item.querySelector(".tokens");
          const count = result.counts[index];
          const method = result.method === "estimated" ? t("estimated") : result.method;
          node.textContent = t("tokens", { count, limit: result.limit, method });
          node.classList.toggle("over", count > result.limit);
        });
      } catch (_) { /* the counter is a help; saving reports the real problem */ }
    }, 250);
  };
  form.addEventListener("input", (event) => {
    if (!["preset", "keep_preset"].includes(event.target.name)) unsaved = true;  // those are the render's, not saved
    form.querySelector(".saved").textContent = "";
    countTokens();
    if (["start_s", "clip_seconds"].includes(event.target.name)) drawTimeline();
  });
  countTokens();

  // Leaving with edits not saved asks first (the browser words the question).
  window.addEventListener("beforeunload", (event) => {
    if (!unsaved) return;
    event.preventDefault();
    event.returnValue = "";
  });

  // A save names the version it was made from (If-Match): one made elsewhere since is a 409, and the
  // person chooses: load the saved storyboard, or keep theirs and save it over that one.
  const conflict = document.getElementById("conflict");
  const save = async () => {
    try {
      const result = await api("PUT", `/api/scenes/${data.id}/storyboard`, read(), { "If-Match": `"${version}"` });
      version = result.version;
      unsaved = false;
      conflict.hidden = true;
      showErrors(form, { fields: [], message: "" });
      form.querySelector(".saved").textContent = t("saved");
      return true;
    } catch (error) {
      if (error.code === "stale_storyboard") {
        form.querySelectorAll(".error").forEach((node) => { node.textContent = ""; });
        conflict.querySelector(".message").textContent = error.message;
        conflict.hidden = false;
        conflict.querySelector("button").focus();
      } else {
        showErrors(form, error);
      }
      return false;
    }
  };
  document.getElementById("load-saved").addEventListener("click", () => {
    unsaved = false;
    window.location.reload();
  });
  const keepMine = document.getElementById("keep-mine");
  keepMine.addEventListener("click", () => busy(keepMine, async () => {
    try {
      version = (await api("GET", `/api/scenes/${data.id}`)).version;
      await save();
    } catch (error) { conflict.querySelector(".message").textContent = error.message; }
    return false;
  }));
  const saveButton = document.getElementById("save");
  saveButton.addEventListener("click", () => busy(saveButton, async () => { await save(); return false; }));

  // Enter in a one-line field (camera, title, style, seed) does nothing: only the Render button renders.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target instanceof HTMLInputElement) event.preventDefault();
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  const renderButton = document.getElementById("render");
  renderButton.addEventListener("click", () => {
    const key = newKey();
    busy(renderButton, async () => {
      if (!(await save())) return false;
      try {
        const result = await api("POST", `/api/scenes/${data.id}/renders`, {
          preset: form.elements.preset.value, keep_preset: form.elements.keep_preset.checked,
        }, { "Idempotency-Key": key });
        window.location.assign(`/renders/${result.render_id}`);
        return true;
      } catch (error) { showErrors(form, error); return false; }
    });
  });
}

// A clock time in the reader's own time zone, from an ISO timestamp the server estimated.
// In the page's language (the site's choice), not the browser's.
const clockTime = (iso) => new Date(iso).toLocaleTimeString(document.documentElement.lang || [], {
  hour: "2-digit", minute: "2-digit",
});

function setUpRender(data) {
  const progress = document.querySelector("#progress progress");
  const stage = document.querySelector("#progress .stage");
  const eta = document.querySelector("#progress .eta");
  const queue = document.querySelector("#progress .queue");
  const cancel = document.getElementById("cancel");
  const started = Date.now();
  const finished = () => {
    document.getElementById("progress").hidden = true;
    const faster = document.getElementById("faster");
    if (faster) faster.hidden = true;
    document.getElementById("delete").hidden = false;
  };
  const showQueue = (render) => {
    let text = "";
    if (render.state === "queued" && render.queue_position !== undefined) {
      text = render.queue_position === 0 ? t("queue_next") : t("queue_ahead", { count: render.queue_position });
    }
    if (render.estimated_finish && render.state === "queued") {
      text += ` ${t("starts_at", { start: clockTime(render.estimated_start), finish: clockTime(render.estimated_finish) })}`;
    } else if (render.estimated_finish) {
      text += ` ${t("ready_at", { finish: clockTime(render.estimated_finish) })}`;
    } else if (render.queue_position !== undefined) {
      text += ` ${t("no_estimate")}`;
    }
    queue.textContent = text.trim();
  };
  const poll = async () => {
    let render;
    try { render = await renderStatusChange(data.id); } catch (_) { setTimeout(poll, 3000); return; }
    progress.value = render.progress;
    const state = render.stage || render.state;
    stage.textContent = strings.states[state] || state;
    showQueue(render);
    if (render.state === "running" && render.progress > 0.05) {
      const elapsed = (Date.now() - started) / 1000;
      eta.textContent = t("seconds_left", { seconds: Math.ceil((elapsed / render.progress) * (1 - render.progress)) });
    }
    if (render.state === "succeeded") {
      finished();
      const video = document.querySelector("#result video");
      video.poster = render.poster_url;
      video.src = render.video_url;
      document.getElementById("download").href = render.download_url;
      if (render.subtitles_url) {  // the book's words, as a track the player shows
        const track = document.createElement("track");
        Object.assign(track, { kind: "subtitles", srclang: render.subtitles_language, label: t("subtitles"), src: render.subtitles_url, default: true });
        video.appendChild(track);
      }
      if (render.download_subtitled_url) {
        const subtitled = document.getElementById("download-subtitled");
        subtitled.href = render.download_subtitled_url;
        subtitled.hidden = false;
      }
      document.getElementById("result").hidden = false;
      document.getElementById("sharing").hidden = false;
    } else if (render.state === "failed") {
      finished();
      document.querySelector("#failure .error").textContent = t("failed", { reason: render.error_message });
      document.getElementById("failure").hidden = false;
    } else if (render.state === "cancelled") {
      finished();
      document.getElementById("cancelled").hidden = false;
    } else {
      poll(); // renderStatusChange waits for the next change
    }
  };
  // The answer, or what went wrong, next to the button that was pressed.
  const whileRunning = (button, action) => busy(button, async () => {
    const message = messageFor(button);
    try { const leaving = await action(); if (message) message.textContent = ""; return leaving; }
    catch (error) { if (message) message.textContent = error.message; return false; }
  });
  cancel.addEventListener("click", () => whileRunning(cancel, async () => {
    const render = await api("POST", `/api/renders/${data.id}/cancel`);
    if (render.state === "cancelled") { finished(); document.getElementById("cancelled").hidden = false; }
  }));
  const waitForPreset = document.getElementById("wait-for-preset");
  if (waitForPreset) {
    waitForPreset.addEventListener("click", () => whileRunning(waitForPreset, async () => {
      await api("POST", `/api/renders/${data.id}/cancel`);
      const result = await api("POST", `/api/scenes/${data.scene_id}/renders`, {
        preset: data.requested_preset, keep_preset: true,
      }, { "Idempotency-Key": newKey() });
      window.location.assign(`/renders/${result.render_id}`);
      return true;
    }));
  }
  const retry = document.getElementById("retry");  // none on a reel's page: a reel is asked for from its book
  if (retry) retry.addEventListener("click", () => {
    const key = newKey();
    whileRunning(retry, async () => {
      const result = await api("POST", `/api/scenes/${data.scene_id}/renders`, { preset: data.preset },
        { "Idempotency-Key": key });
      window.location.assign(`/renders/${result.render_id}`);
      return true;
    });
  });
  setUpSharing(data.id, whileRunning);
  poll();
}

// The owner's controls on a render page: publish, unpublish, delete.
function setUpSharing(renderId, whileRunning) {
  const publish = document.getElementById("publish");
  if (publish) {
    const submit = publish.querySelector("button[type=submit]");
    publish.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        try {
          await api("POST", `/api/renders/${renderId}/publish`, { display_name: valueOrNull(publish, "display_name") });
          window.location.reload();
          return true;
        } catch (error) { showErrors(publish, error); return false; }
      });
    });
  }
  const unpublish = document.getElementById("unpublish");
  if (unpublish) {
    unpublish.addEventListener("click", () => whileRunning(unpublish, async () => {
      await api("DELETE", `/api/renders/${renderId}/publish`);
      window.location.reload();
      return true;
    }));
  }
  const remove = document.getElementById("delete");
  remove.addEventListener("click", () => {
    if (!window.confirm(t("confirm_delete"))) return;
    whileRunning(remove, async () => {
      await api("DELETE", `/api/renders/${renderId}`);
      window.location.assign("/renders");
      return true;
    });
  });
}

// A gallery clip: votes (press again to take one back), remix, report.
function setUpClip(data) {
  const section = document.querySelector(".reactions");
  if (!section) return;
  const message = section.querySelector(".error");
  const show = (publication) => {
    section.querySelector(".count-up").textContent = publication.up;
    section.querySelector(".count-down").textContent = publication.down;
    section.querySelectorAll("button.vote").forEach((button) => {
      button.setAttribute("aria-pressed", String(Number(button.dataset.value) === publication.my_vote));
    });
  };
  section.querySelectorAll("button.vote").forEach((button) => {
    button.addEventListener("click", () => busy(button, async () => {
      const value = button.getAttribute("aria-pressed") === "true" ? 0 : Number(button.dataset.value);
      try { show(await api("PUT", `/api/renders/${data.id}/vote`, { value })); message.textContent = ""; }
      catch (error) { message.textContent = error.message; }
      return false;
    }));
  });
  const remix = document.getElementById("remix");  // none on a reel's: it has no storyboard of its own
  if (remix) remix.addEventListener("click", () => busy(remix, async () => {
    try {
      const scene = await api("POST", `/api/renders/${data.id}/remix`);
      window.location.assign(`/scenes/${scene.scene_id}`);
      return true;
    } catch (error) { message.textContent = error.message; return false; }
  }));
  const report = document.getElementById("report");  // accounts only, never on one's own clip
  if (report) {
    report.addEventListener("click", () => {
      if (!window.confirm(t("confirm_report"))) return;
      busy(report, async () => {
        try {
          await api("POST", `/api/renders/${data.id}/report`);
          // One report per person: the button goes, a plain thank-you takes its place.
          const thanks = section.querySelector(".thanks");
          thanks.textContent = t("reported");
          report.remove();
          message.textContent = "";
          thanks.focus();
        } catch (error) { message.textContent = error.message; }
        return false;
      });
    });
  }
}

// My renders: a card per render; unfinished ones follow the status API; every action answers on its card.
function setUpLibrary(list) {
  const states = strings.states || {};
  const show = (card, render) => {
    const finished = !["queued", "dispatching", "running"].includes(render.state);
    card.dataset.state = render.state;
    card.querySelectorAll("[data-show]").forEach((node) => {
      const when = node.dataset.show;
      node.hidden = !((when === "finished" && finished) || (when === "unfinished" && !finished) || when === render.state);
    });
    card.querySelectorAll(".state").forEach((node) => {
      node.className = `state state-${render.state}`;
      node.textContent = states[render.state] || render.state;
    });
    const placeholder = card.querySelector(".placeholder");
    placeholder.textContent = states[render.state] || render.state;
    if (render.poster_url) {
      const poster = card.querySelector("img.poster");
      poster.src = render.poster_url;
      poster.hidden = false;
      placeholder.hidden = true;
    }
    if (render.download_url) card.querySelector("a.download").href = render.download_url;
    card.querySelector(".live progress").value = render.progress;
    card.querySelector(".live .percent").textContent = t("percent", { percent: Math.floor(render.progress * 100) });
  };
  const follow = async (card) => {
    let render;
    try { render = await api("GET", `/api/renders/${card.dataset.id}`); } catch (_) { setTimeout(() => follow(card), 5000); return; }
    show(card, render);
    if (["queued", "dispatching", "running"].includes(render.state)) setTimeout(() => follow(card), 2000);
  };
  const randomSeed = () => window.crypto.getRandomValues(new Uint32Array(1))[0];
  const actions = {
    publish: async (card) => { await api("POST", `/api/renders/${card.dataset.id}/publish`, {}); window.location.reload(); return true; },
    unpublish: async (card) => { await api("DELETE", `/api/renders/${card.dataset.id}/publish`); window.location.reload(); return true; },
    remix: async (card) => {
      const scene = await api("POST", `/api/renders/${card.dataset.id}/remix`);
      window.location.assign(`/scenes/${scene.scene_id}`);
      return true;
    },
    again: async (card, key) => {
      const result = await api("POST", `/api/scenes/${card.dataset.sceneId}/renders`,
        { preset: card.dataset.preset, seed: randomSeed() }, { "Idempotency-Key": key });
      window.location.assign(`/renders/${result.render_id}`);
      return true;
    },
    cancel: async (card) => { show(card, await api("POST", `/api/renders/${card.dataset.id}/cancel`)); return false; },
    delete: async (card) => {
      await api("DELETE", `/api/renders/${card.dataset.id}`);
      card.remove();
      return false;
    },
  };
  list.querySelectorAll(".render-card").forEach((card) => {
    card.querySelectorAll("button[data-action]").forEach((button) => {
      button.addEventListener("click", () => {
        const action = button.dataset.action;
        if (action === "delete" && !window.confirm(t("confirm_delete"))) return;
        const key = newKey();
        const message = messageFor(button);
        busy(button, async () => {
          try { const leaving = await actions[action](card, key); message.textContent = ""; return leaving; }
          catch (error) { message.textContent = error.message; return false; }
        });
      });
    });
    if (["queued", "dispatching", "running"].includes(card.dataset.state)) follow(card);
  });
}

// Forms the browser sends itself (sign-in and out, appeals, moderation): the button pressed shows it is
// busy and a second press sends nothing. Not disabled: a disabled submitter would drop its name from the form.
function setUpPostForms() {
  document.querySelectorAll('form[method="post"]').forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sending) { event.preventDefault(); return; }
      form.dataset.sending = "true";
      const button = event.submitter;
      if (button) { button.setAttribute("aria-busy", "true"); button.setAttribute("aria-disabled", "true"); }
    });
  });
  // Back to a page kept in the browser's cache: its forms may be sent again.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    document.querySelectorAll('form[method="post"]').forEach((form) => {
      delete form.dataset.sending;
      form.querySelectorAll('[aria-busy="true"]').forEach((button) => {
        button.removeAttribute("aria-busy");
        button.removeAttribute("aria-disabled");
      });
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  strings = JSON.parse(document.getElementById("i18n").textContent);
  setUpPostForms();
  document.querySelectorAll("script.i18n-page").forEach((block) => Object.assign(strings, JSON.parse(block.textContent)));
  const library = document.querySelector("ul.library");
  if (library) setUpLibrary(library);
  document.querySelectorAll("[data-without-script]").forEach((node) => { node.hidden = true; });
  const newScene = document.getElementById("new-scene");
  if (newScene) setUpNewScene(newScene);
  const sceneData = document.getElementById("scene-data");
  if (sceneData) {
    const data = JSON.parse(sceneData.textContent);
    const answers = document.getElementById("answers");
    if (answers) setUpAnswers(answers, data.id);
    const storyboard = document.getElementById("storyboard");
    if (storyboard) setUpStoryboard(storyboard, data);
  }
  const renderData = document.getElementById("render-data");
  if (renderData) setUpRender(JSON.parse(renderData.textContent));
  const clipData = document.getElementById("clip-data");
  if (clipData) setUpClip(JSON.parse(clipData.textContent));
});
