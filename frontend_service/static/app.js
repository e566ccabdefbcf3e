"use strict";
// Drives the JSON API from the pages. Text reaches the page only through textContent.

const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

// The page's language: its strings come from the server's catalogue, in a JSON block.
let strings = {};
function t(key, values = {}) {
  return (strings[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (_) { /* not JSON: keep null */ }
  if (!response.ok) {
    const error = new Error((data && data.error && data.error.message) || t("server", { status: response.status }));
    error.fields = (data && data.error && data.error.fields) || [];
    throw error;
  }
  return data;
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
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const scene = await api("POST", "/api/scenes", {
        text: form.elements.text.value, book: valueOrNull(form, "book"),
        author: valueOrNull(form, "author"), passage: valueOrNull(form, "passage"),
      });
      window.location.assign(`/scenes/${scene.id}`);
    } catch (error) { showErrors(form, error); }
  });
}

function setUpAnswers(form, sceneId) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answers = {};
    form.querySelectorAll("textarea").forEach((area) => { answers[area.name] = area.value; });
    try {
      await api("POST", `/api/scenes/${sceneId}/answers`, { answers });
      window.location.reload();
    } catch (error) { showErrors(form, error); }
  });
  document.getElementById("skip").addEventListener("click", async () => {
    try {
      await api("POST", `/api/scenes/${sceneId}/finish`);
      window.location.reload();
    } catch (error) { showErrors(form, error); }
  });
}

function setUpStoryboard(form, data) {
  const list = document.getElementById("shots");
  const template = document.getElementById("shot-template");
  const storyboard = data.storyboard;
  form.elements.title.value = storyboard.title;
  form.elements.style.value = storyboard.style;
  form.elements.negative_prompt.value = storyboard.negative_prompt;
  form.elements.seed.value = storyboard.seed;
  form.elements.aspect.value = storyboard.aspect;

  const addShot = (shot) => {
    const item = template.content.firstElementChild.cloneNode(true);
    item.querySelector('[name="start_s"]').value = shot.start_s;
    item.querySelector('[name="camera"]').value = shot.camera || "";
    item.querySelector('[name="prompt"]').value = shot.prompt;
    item.querySelector('[name="quote"]').value = shot.quote || "";
    item.querySelector(".remove-shot").addEventListener("click", () => { item.remove(); countTokens(); });
    list.appendChild(item);
  };
  storyboard.shots.forEach(addShot);
  document.getElementById("add-shot").addEventListener("click", () => {
    if (list.children.length >= data.max_shots) return;
    const last = list.lastElementChild;
    const start = last ? Math.min(14, Number(last.querySelector('[name="start_s"]').value) + 2) : 0;
    addShot({ start_s: start, prompt: "", camera: "" });
  });

  const read = () => ({
    title: form.elements.title.value,
    book: storyboard.book,
    author: storyboard.author,
    style: form.elements.style.value,
    negative_prompt: form.elements.negative_prompt.value,
    seed: Number(form.elements.seed.value),
    aspect: form.elements.aspect.value,
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
  form.addEventListener("input", countTokens);
  countTokens();

  const save = async () => {
    try {
      await api("PUT", `/api/scenes/${data.id}/storyboard`, read());
      showErrors(form, { fields: [], message: "" });
      form.querySelector(".saved").textContent = t("saved");
      return true;
    } catch (error) { showErrors(form, error); return false; }
  };
  document.getElementById("save").addEventListener("click", save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!(await save())) return;
    try {
      const result = await api("POST", `/api/scenes/${data.id}/renders`, {
        preset: form.elements.preset.value, keep_preset: form.elements.keep_preset.checked,
      });
      window.location.assign(`/renders/${result.render_id}`);
    } catch (error) { showErrors(form, error); }
  });
}

// A clock time in the reader's own time zone, from an ISO timestamp the server estimated.
const clockTime = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

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
    try { render = await api("GET", `/api/renders/${data.id}`); } catch (_) { setTimeout(poll, 3000); return; }
    progress.value = render.progress;
    stage.textContent = render.stage || render.state;
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
      document.querySelector("#failure .error").textContent = t("failed", { reason: render.error });
      document.getElementById("failure").hidden = false;
    } else if (render.state === "cancelled") {
      finished();
      document.getElementById("cancelled").hidden = false;
    } else {
      setTimeout(poll, render.state === "queued" ? 2000 : 1000);
    }
  };
  // A button stays disabled while its request runs: one click, one request.
  const whileRunning = async (button, action) => {
    const message = button.parentElement.querySelector(".error");
    button.disabled = true;
    try { await action(); if (message) message.textContent = ""; }
    catch (error) { if (message) message.textContent = error.message; }
    finally { button.disabled = false; }
  };
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
      });
      window.location.assign(`/renders/${result.render_id}`);
    }));
  }
  document.getElementById("retry").addEventListener("click", async () => {
    try {
      const result = await api("POST", `/api/scenes/${data.scene_id}/renders`, { preset: data.preset });
      window.location.assign(`/renders/${result.render_id}`);
    } catch (error) { document.querySelector("#failure .error").textContent = error.message; }
  });
  setUpSharing(data.id);
  poll();
}

// The owner's controls on a render page: publish, unpublish, delete.
function setUpSharing(renderId) {
  const publish = document.getElementById("publish");
  if (publish) {
    publish.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("POST", `/api/renders/${renderId}/publish`, { display_name: valueOrNull(publish, "display_name") });
        window.location.reload();
      } catch (error) { showErrors(publish, error); }
    });
  }
  const unpublish = document.getElementById("unpublish");
  if (unpublish) {
    unpublish.addEventListener("click", async () => {
      await api("DELETE", `/api/renders/${renderId}/publish`);
      window.location.reload();
    });
  }
  document.getElementById("delete").addEventListener("click", async () => {
    if (!window.confirm(t("confirm_delete"))) return;
    await api("DELETE", `/api/renders/${renderId}`);
    window.location.assign("/renders");
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
    button.addEventListener("click", async () => {
      const value = button.getAttribute("aria-pressed") === "true" ? 0 : Number(button.dataset.value);
      try { show(await api("PUT", `/api/renders/${data.id}/vote`, { value })); message.textContent = ""; }
      catch (error) { message.textContent = error.message; }
    });
  });
  document.getElementById("remix").addEventListener("click", async () => {
    try {
      const scene = await api("POST", `/api/renders/${data.id}/remix`);
      window.location.assign(`/scenes/${scene.scene_id}`);
    } catch (error) { message.textContent = error.message; }
  });
  const report = document.getElementById("report");  // accounts only, never on one's own clip
  if (report) {
    report.addEventListener("click", async () => {
      if (!window.confirm(t("confirm_report"))) return;
      try { await api("POST", `/api/renders/${data.id}/report`); message.textContent = t("reported"); }
      catch (error) { message.textContent = error.message; }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  strings = JSON.parse(document.getElementById("i18n").textContent);
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
