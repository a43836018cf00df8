// imtrans web page: pick an image, send it to /v1/translate, poll the job, show the result.
// Plain JavaScript, no build step: every file the page needs is served by the app.
"use strict";

const $ = (sel) => document.querySelector(sel);
const SVG = "http://www.w3.org/2000/svg";
const POLL_MS = 400;

const state = {
  file: null,        // the picked image
  job: null,         // the last job as the API returned it
  blobs: {},         // object URLs of the shown images, revoked when replaced
  showOriginal: false,
  hot: null,         // the block whose popover is shown: {id, view}, shown again after a re-render
};

// ---- API ------------------------------------------------------------------------------
function authHeaders() {
  const token = sessionStorage.getItem("imtrans-token") || "";
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) } });
  if (!response.ok) throw await apiError(response);
  return response;
}

async function apiError(response) {
  let message = `${response.status} ${response.statusText}`;
  try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
  if (response.status === 401) $("#token-field").hidden = false;
  if (response.status === 503) {
    const wait = response.headers.get("Retry-After");
    message += wait ? ` (try again in ${wait} s)` : "";
  }
  return new Error(message);
}

// Upload with XMLHttpRequest: fetch cannot report upload progress.
function upload(form) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/translate");
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) showProgress(`Uploading… ${Math.round((100 * e.loaded) / e.total)}%`, (100 * e.loaded) / e.total);
    };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status === 401) $("#token-field").hidden = false;
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        const wait = xhr.getResponseHeader("Retry-After");
        reject(new Error((body.error || `${xhr.status} ${xhr.statusText}`) + (wait ? ` (try again in ${wait} s)` : "")));
      }
    };
    xhr.onerror = () => reject(new Error("the server cannot be reached"));
    xhr.send(form);
  });
}

// ---- status line --------------------------------------------------------------------------
function showProgress(text, percent) {
  const bar = $("#progress");
  bar.hidden = false;
  if (percent === undefined) bar.removeAttribute("value"); else bar.value = percent;
  $("#status").textContent = text;
}

function doneProgress(text, nothing = false) {
  $("#progress").hidden = true;
  $("#status").textContent = text;
  $("#status").classList.toggle("nothing", nothing);
}

function showError(message) {
  $("#progress").hidden = true;
  $("#status").textContent = "";
  $("#error").textContent = message;
}

// What a finished page says in one line: how many blocks were drawn, or why none was.
const REASONS = { no_translator: "no translator", glossary_miss: "no glossary entry" };

function pageSummary(page) {
  const drawn = page.blocks.filter((b) => b.translation).length;
  const total = Object.values(page.timings).reduce((a, b) => a + b, 0);
  if (!page.blocks.length) return { text: `No text found (${total.toFixed(1)} s).`, nothing: true };
  if (!drawn) {
    const reasons = [...new Set(page.diagnostics.map((d) => REASONS[d.code]).filter(Boolean))];
    const why = reasons.length ? reasons.join(" / ") : "the text is already in the target language or has no letters";
    // Blocks no translator could take are erased; a glossary miss keeps its lettering.
    const erased = page.diagnostics.some((d) => d.code === "no_translator") ? " and erased" : "";
    return {
      text: `Nothing was translated: ${why}. ${page.blocks.length} block(s) read${erased}; type translations below and re-render.`,
      nothing: true,
    };
  }
  return { text: `Done: ${drawn} of ${page.blocks.length} block(s) translated in ${total.toFixed(1)} s.${checksLine(page)}`, nothing: false };
}

// How many blocks passed their checks, and how many are marked to review ("" without a check).
function checksLine(page) {
  if (!page.check) return "";
  const marked = page.check.failed ? ` (${page.check.failed} to review, marked)` : "";
  return ` ${page.check.passed} of ${page.check.blocks} passed the checks${marked}.`;
}

// The checks a block failed after repair, as words ("" when it passed or was not checked).
function failedChecks(block) {
  if (!block.quality || block.quality.passed) return "";
  return block.quality.failed.map((c) => c.replace("_", " ")).join(", ");
}

// ---- the form -----------------------------------------------------------------------------
async function loadOptions() {
  try {
    const options = await (await api("/v1/options")).json();
    fillSelect($("#source"), options.sources, options.defaults.source);
    fillSelect($("#target"), options.targets, options.defaults.target);
    const translators = Object.fromEntries(options.translators.map((t) => [t, t]));
    const fallback = options.defaults.translator;
    const automatic = fallback === "glossary" ? fallback : `glossary or ${fallback}`;
    fillSelect($("#translator"), { "": `automatic (${automatic})`, ...translators }, "");
    if (options.token_required && !sessionStorage.getItem("imtrans-token")) $("#token-field").hidden = false;
  } catch (e) {
    showError(`Cannot load the options: ${e.message}`);
  }
}

function fillSelect(select, entries, chosen) {
  select.replaceChildren(...Object.entries(entries).map(([value, name]) => {
    const option = new Option(value && value !== name ? `${name} (${value})` : name, value);
    option.selected = value === chosen;
    return option;
  }));
}

function pickFile(file) {
  if (!file) return;
  state.file = file;
  $("#drop-text").textContent = `${file.name || "pasted image"} (${Math.round(file.size / 1024)} KB). Drop or pick another to replace it.`;
  const preview = $("#preview");
  if (state.blobs.preview) URL.revokeObjectURL(state.blobs.preview);
  state.blobs.preview = URL.createObjectURL(file);
  preview.src = state.blobs.preview;
  preview.hidden = false;
  $("#go").disabled = false;
}

async function translate(event) {
  event.preventDefault();
  if (!state.file) return;
  $("#error").textContent = "";
  $("#go").disabled = true;
  const token = $("#token").value.trim();
  if (token) sessionStorage.setItem("imtrans-token", token);
  const form = new FormData();
  form.append("image", state.file, state.file.name || "pasted.png");
  for (const name of ["source", "target", "translator"]) {
    const value = $(`#${name}`).value;
    if (value) form.append(name, value);
  }
  const glossary = $("#glossary").files[0];
  if (glossary) form.append("glossary", glossary, glossary.name);
  try {
    showProgress("Uploading…", 0);
    let job = await upload(form);
    const started = Date.now();
    while (job.status === "queued" || job.status === "running") {
      const seconds = Math.round((Date.now() - started) / 1000);
      showProgress(job.waiting_for_worker ? `Waiting for a free worker… ${seconds} s` : `Reading, translating and drawing… ${seconds} s`);
      await new Promise((r) => setTimeout(r, POLL_MS));
      job = await (await api(`/v1/jobs/${job.id}`)).json();
    }
    if (job.status === "failed") throw new Error(job.error);
    state.hot = null;
    await showJob(job);
    const summary = pageSummary(job.page);
    doneProgress(summary.text, summary.nothing);
    $("#render-status").textContent = "";
    // On a phone the result is below the form: bring it into view.
    if (window.matchMedia("(max-width: 820px)").matches) $("#result").scrollIntoView({ block: "start" });
  } catch (e) {
    showError(e.message);
  } finally {
    $("#go").disabled = false;
  }
}

// ---- the result ----------------------------------------------------------------------------
async function fetchBlob(url) {
  return (await api(url)).blob();
}

async function showJob(job) {
  state.job = job;
  const [translated, original] = await Promise.all([
    fetchBlob(job.files.translated_png),
    fetchBlob(job.files.original_png),
  ]);
  for (const [key, blob] of [["translated", translated], ["original", original]]) {
    if (state.blobs[key]) URL.revokeObjectURL(state.blobs[key]);
    state.blobs[key] = URL.createObjectURL(blob);
  }
  $("#original-image").src = state.blobs.original;
  showMainImage();
  $("#result").hidden = false;
  $("#result").dataset.revision = String(job.revision);
  $("#result").dataset.job = job.id;
  drawOverlays(job.page);
  listBlocks(job.page);
  listDiagnostics(job.page);
  // A popover that was open shows the block as it is now (its new translation).
  const hot = state.hot && job.page.blocks.find((b) => b.id === state.hot.id);
  if (hot) highlight(hot, state.hot.view); else highlight(null, null);
}

function showMainImage() {
  const main = $("#main-image");
  main.src = state.showOriginal ? state.blobs.original : state.blobs.translated;
  main.alt = state.showOriginal ? "Original image" : "Translated image";
  const page = state.job ? state.job.page : { blocks: [], diagnostics: [] };
  const drawn = page.blocks.some((b) => b.translation);
  const erased = page.diagnostics.some((d) => d.code === "no_translator");
  const caption = drawn ? "Translated" : erased ? "Erased (nothing translated yet)" : "Nothing translated";
  $("#main-caption").textContent = state.showOriginal ? "Original" : caption;
  $("#toggle").setAttribute("aria-pressed", String(state.showOriginal));
  $("#toggle").textContent = state.showOriginal ? "Show translated" : "Show original";
}

function drawOverlays(page) {
  for (const view of document.querySelectorAll(".view")) {
    const svg = view.querySelector("svg");
    svg.setAttribute("viewBox", `0 0 ${page.width} ${page.height}`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.replaceChildren(...page.blocks.map((block) => blockShape(block, view)));
  }
}

function blockShape(block, view) {
  const shape = document.createElementNS(SVG, "polygon");
  shape.setAttribute("points", block.quad.map(([x, y]) => `${x},${y}`).join(" "));
  shape.setAttribute("tabindex", "0");
  shape.setAttribute("role", "button");
  shape.dataset.block = block.id;
  const translation = block.translation ? block.translation.text : "(not translated)";
  const failed = failedChecks(block);
  shape.classList.toggle("failed", failed !== "");
  const checks = failed ? `, failed its checks: ${failed}` : "";
  shape.setAttribute("aria-label", `Block ${block.id}: ${block.text}, translated: ${translation}${checks}`);
  const show = () => highlight(block, view);
  shape.addEventListener("mouseenter", show);
  shape.addEventListener("focus", show);
  shape.addEventListener("click", show);  // a tap on a phone
  shape.addEventListener("mouseleave", () => highlight(null, view));
  shape.addEventListener("blur", () => highlight(null, view));
  shape.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      const box = document.querySelector(`.block[data-block="${block.id}"] textarea`);
      if (box) box.focus();
    }
  });
  return shape;
}

function highlight(block, view) {
  state.hot = block && view ? { id: block.id, view } : null;
  for (const el of document.querySelectorAll("[data-block]")) {
    el.classList.toggle("hot", block !== null && el.dataset.block === block.id);
  }
  for (const pop of document.querySelectorAll(".popover")) pop.hidden = true;
  if (!block || !view) return;
  const pop = view.querySelector(".popover");
  const img = view.querySelector("img");
  const scale = img.clientWidth / state.job.page.width;
  const xs = block.quad.map((p) => p[0]);
  const ys = block.quad.map((p) => p[1]);
  const below = Math.max(...ys) * scale + 6;
  pop.replaceChildren(
    textLine("read", block.text),
    textLine("translated", block.translation ? block.translation.text : "(not translated)"),
    ...(failedChecks(block) ? [textLine("failed", `failed its checks: ${failedChecks(block)}`)] : []),
  );
  pop.style.left = `${Math.max(0, Math.min(...xs) * scale)}px`;
  pop.hidden = false;
  // Below the block when there is room in the image, else above it.
  const top = below + pop.offsetHeight < img.clientHeight ? below : Math.min(...ys) * scale - pop.offsetHeight - 6;
  pop.style.top = `${Math.max(0, top)}px`;
}

function textLine(kind, text) {
  const p = document.createElement("div");
  p.className = kind;
  p.textContent = text;
  return p;
}

function listBlocks(page) {
  const template = $("#block-template");
  // Blocks without a translation first (those the user may want to type), each group in reading order.
  const ordered = [...page.blocks.filter((b) => !b.translation), ...page.blocks.filter((b) => b.translation)];
  $("#blocks").replaceChildren(...ordered.map((block) => {
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.block = block.id;
    item.classList.toggle("untranslated", !block.translation);
    item.querySelector(".block-id").textContent = block.id;
    const failed = failedChecks(block);
    item.classList.toggle("failed", failed !== "");
    const mark = item.querySelector(".block-checks");
    mark.hidden = !failed;
    mark.textContent = failed ? `⚠ ${failed}` : "";
    mark.title = failed ? `Failed its checks after repair: ${failed}. Look at it.` : "";
    item.querySelector(".block-lang").textContent = `${block.language}→${page.target_lang}`;
    item.querySelector(".text").textContent = block.text;
    const box = item.querySelector("textarea");
    const current = block.translation ? block.translation.text : "";
    box.value = current;
    box.dataset.original = current;
    box.setAttribute("aria-label", `Translation of block ${block.id}`);
    box.addEventListener("input", () => {
      box.classList.toggle("edited", box.value !== box.dataset.original);
      $("#rerender").disabled = !document.querySelector("#blocks textarea.edited");
    });
    box.addEventListener("focus", () => highlight(block, $("#view-main")));
    item.querySelector(".copy-source").addEventListener("click", (e) => copy(block.text, e.target));
    item.addEventListener("mouseenter", () => highlight(block, $("#view-main")));
    item.addEventListener("mouseleave", () => highlight(null, null));
    return item;
  }));
  $("#rerender").disabled = true;
}

function listDiagnostics(page) {
  const items = page.diagnostics.map((d) => `${d.severity}: ${d.stage}/${d.code}: ${d.message}`);
  items.push(`timings: ${Object.entries(page.timings).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(", ")}`);
  $("#diagnostics").replaceChildren(...items.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    flash(button, "Copied");
  } catch (_) {
    flash(button, "Copy failed");
  }
}

function flash(button, text) {
  const before = button.textContent;
  button.textContent = text;
  setTimeout(() => { button.textContent = before; }, 1200);
}

async function rerender() {
  const edits = {};
  for (const box of document.querySelectorAll("#blocks textarea.edited")) {
    edits[box.closest(".block").dataset.block] = box.value;
  }
  if (!Object.keys(edits).length) return;
  $("#rerender").disabled = true;
  $("#render-error").textContent = "";
  $("#render-status").textContent = "Re-rendering with your edits…";
  try {
    const response = await api(`/v1/jobs/${state.job.id}/render`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ translations: edits }),
    });
    state.showOriginal = false;
    await showJob(await response.json());
    const drawn = state.job.page.blocks.filter((b) => b.translation).length;
    $("#render-status").textContent = `Re-rendered (revision ${state.job.revision}): ${drawn} block(s) drawn.${checksLine(state.job.page)}`;
  } catch (e) {
    $("#render-status").textContent = "";
    $("#render-error").textContent = e.message;
    $("#rerender").disabled = false;
  }
}

async function download(url, name) {
  try {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await fetchBlob(url));
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (e) {
    $("#toolbar-error").textContent = e.message;
  }
}

// The server keeps every job (images, text) until it is deleted or expires: let the user
// remove theirs.
async function deleteJob() {
  if (!state.job || !window.confirm("Delete this image, its translation and its text from the server?")) return;
  $("#toolbar-error").textContent = "";
  try {
    await api(`/v1/jobs/${state.job.id}`, { method: "DELETE" });
  } catch (e) {
    $("#toolbar-error").textContent = e.message;
    return;
  }
  state.job = null;
  for (const key of ["translated", "original"]) {
    if (state.blobs[key]) URL.revokeObjectURL(state.blobs[key]);
    delete state.blobs[key];
  }
  $("#result").hidden = true;
  delete $("#result").dataset.job;
  doneProgress("Deleted from the server.");
}

// ---- wiring -----------------------------------------------------------------------------
function wire() {
  const drop = $("#drop");
  $("#image").addEventListener("change", (e) => pickFile(e.target.files[0]));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    pickFile(e.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (e) => {
    const file = [...e.clipboardData.files].find((f) => f.type.startsWith("image/"));
    if (file) pickFile(file);
  });
  $("#request").addEventListener("submit", translate);
  $("#toggle").addEventListener("click", () => { state.showOriginal = !state.showOriginal; showMainImage(); });
  $("#side").addEventListener("click", () => {
    const side = !$("#views").classList.contains("side");
    $("#views").classList.toggle("side", side);
    $("#view-original").hidden = !side;
    $("#side").setAttribute("aria-pressed", String(side));
    if (side) { state.showOriginal = false; showMainImage(); }
    $("#toggle").disabled = side;
  });
  $("#rerender").addEventListener("click", rerender);
  $("#copy-all").addEventListener("click", (e) => {
    // What was read, a block a line in reading order (line breaks inside a block become spaces).
    const text = state.job.page.blocks.map((b) => b.text.replace(/\s+/g, " ")).join("\n");
    copy(text, e.target);
  });
  $("#download-png").addEventListener("click", () => download(state.job.files.translated_png, `${state.job.id.slice(0, 8)}.translated.png`));
  $("#download-json").addEventListener("click", () => download(state.job.files.page_json, `${state.job.id.slice(0, 8)}.json`));
  for (const fmt of ["svg", "psd"]) {
    $(`#download-${fmt}`).addEventListener("click", () => download(state.job.layers[fmt], `${state.job.id.slice(0, 8)}.layers.${fmt}`));
  }
  $("#delete").addEventListener("click", deleteJob);
  loadOptions();
}

wire();
