// The chat page of `camelid serve`: talks to the server's OpenAI-compatible API and keeps every
// conversation in this browser's localStorage. No framework and no build step, so the server can embed
// these files as they are.
(function () {
  "use strict";

  const storageKeys = {
    conversations: "camelid.conversations",
    activeConversation: "camelid.activeConversation",
    settings: "camelid.settings",
    apiKey: "camelid.apiKey",
  };
  // No max tokens by default: the server then stops at the end of the model's context, whatever its size.
  const defaultSettings = { model: "", systemPrompt: "", temperature: 0.8, topP: 0.95, maxTokens: null };
  const narrowLayout = window.matchMedia("(max-width: 700px)");

  const $ = (id) => document.getElementById(id);
  const ui = {
    app: $("app"), sidebar: $("sidebar"), backdrop: $("sidebar-backdrop"), sidebarToggle: $("sidebar-toggle"),
    closeSidebar: $("close-sidebar"), newChat: $("new-chat"), conversationList: $("conversation-list"),
    serverStatus: $("server-status"), title: $("conversation-title"), model: $("model"), modelPicker: $("model-picker"),
    settingsToggle: $("settings-toggle"), settingsPanel: $("settings-panel"), systemPrompt: $("system-prompt"),
    temperature: $("temperature"), topP: $("top-p"), maxTokens: $("max-tokens"),
    authPanel: $("auth-panel"), authForm: $("auth-form"), apiKey: $("api-key"), authMessage: $("auth-message"),
    messages: $("messages"), emptyState: $("empty-state"), error: $("error"), errorText: $("error-text"),
    dismissError: $("dismiss-error"), regenerate: $("regenerate"), composer: $("composer"), prompt: $("prompt"),
    send: $("send"), stop: $("stop"),
  };

  // ---------- persistence ----------

  function readJson(key, fallback) {
    try {
      const text = localStorage.getItem(key);
      return text === null ? fallback : JSON.parse(text);
    } catch {
      return fallback;
    }
  }

  function writeJson(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      showError("Could not save to this browser's storage: " + e.message);
    }
  }

  function loadConversations() {
    const stored = readJson(storageKeys.conversations, []);
    if (!Array.isArray(stored)) return [];
    return stored.filter((c) => c && typeof c.id === "string" && Array.isArray(c.messages)).map((c) => {
      // An answer that was streaming when the page went away is kept as far as it got.
      for (const m of c.messages) if (m.pending) { delete m.pending; m.stats = m.stats || { finishReason: "interrupted" }; }
      c.messages = c.messages.filter((m) => m.role !== "assistant" || m.content !== "");
      return c;
    });
  }

  let conversations = loadConversations();
  let activeId = localStorage.getItem(storageKeys.activeConversation);
  if (!conversations.some((c) => c.id === activeId)) activeId = null;
  let settings = Object.assign({}, defaultSettings, readJson(storageKeys.settings, {}));
  let apiKey = localStorage.getItem(storageKeys.apiKey) || "";
  let generation = null; // { conversation, message, controller } while an answer streams

  function saveConversations() {
    writeJson(storageKeys.conversations, conversations);
    if (activeId) localStorage.setItem(storageKeys.activeConversation, activeId);
    else localStorage.removeItem(storageKeys.activeConversation);
  }

  let saveTimer = null;
  function saveConversationsSoon() {
    if (saveTimer) return;
    saveTimer = setTimeout(() => { saveTimer = null; saveConversations(); }, 500);
  }

  function activeConversation() {
    return conversations.find((c) => c.id === activeId) || null;
  }

  function titleFrom(text) {
    const line = text.replace(/\s+/g, " ").trim();
    return line.length > 48 ? line.slice(0, 47).trimEnd() + "…" : line || "New chat";
  }

  function newConversationId() {
    return (crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2));
  }

  // ---------- server calls ----------

  function authHeaders() {
    return apiKey ? { Authorization: "Bearer " + apiKey } : {};
  }

  class ServerError extends Error {
    constructor(message, status, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // The server answers errors the way OpenAI does: {"error":{"message","type","param","code"}}.
  async function errorFromResponse(response) {
    const text = await response.text().catch(() => "");
    let message = "", code = null;
    try {
      const body = JSON.parse(text);
      const error = body && body.error;
      if (error && typeof error === "object") { message = error.message || ""; code = error.code || error.type || null; }
      else if (typeof error === "string") message = error;
    } catch {
      message = text.trim().slice(0, 300);
    }
    if (!message) message = "The server answered " + response.status + (response.statusText ? " " + response.statusText : "");
    return new ServerError(message, response.status, code);
  }

  // Server-sent events, parsed by the spec's line rules: an event may arrive split across network
  // chunks, lines may end in \n, \r\n or \r, and a blank line ends the event.
  async function* serverSentEvents(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let data = [];
    let finished = false;
    try {
      while (!finished) {
        const { value, done } = await reader.read();
        finished = done;
        buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
        for (;;) {
          const end = buffer.search(/[\r\n]/);
          if (end < 0) break;
          // A lone \r at the end may be the first half of \r\n still in flight.
          if (buffer[end] === "\r" && end === buffer.length - 1 && !finished) break;
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + (buffer[end] === "\r" && buffer[end + 1] === "\n" ? 2 : 1));
          if (line === "") {
            if (data.length) { yield data.join("\n"); data = []; }
          } else if (!line.startsWith(":")) {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            let value = colon < 0 ? "" : line.slice(colon + 1);
            if (value.startsWith(" ")) value = value.slice(1);
            if (field === "data") data.push(value);
          }
        }
      }
      if (buffer.startsWith("data:")) data.push(buffer.slice(5).replace(/^ /, ""));
      if (data.length) yield data.join("\n");
    } finally {
      reader.releaseLock();
    }
  }

  function setServerStatus(text, state) {
    ui.serverStatus.textContent = text;
    ui.serverStatus.dataset.state = state;
  }

  async function waitUntilHealthy() {
    for (;;) {
      try {
        const response = await fetch("health", { headers: authHeaders(), cache: "no-store" });
        if (response.ok || response.status === 401) return true;
        if (response.status !== 503) {
          // The model failed to load: waiting longer will not help, so say why.
          const error = await errorFromResponse(response);
          setServerStatus("Model failed to load", "down");
          showError(error.message);
          return false;
        }
        setServerStatus("Loading model…", "loading");
      } catch {
        setServerStatus("Server unreachable; retrying…", "down");
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }

  async function loadModels() {
    let response;
    try {
      response = await fetch("v1/models", { headers: authHeaders(), cache: "no-store" });
    } catch (e) {
      setServerStatus("Server unreachable", "down");
      showError("Could not reach the server: " + e.message);
      return false;
    }
    if (response.status === 401) {
      const error = await errorFromResponse(response);
      showAuthPanel(apiKey ? "That key was not accepted: " + error.message : error.message);
      setServerStatus("Needs an API key", "down");
      return false;
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      showError(error.message);
      setServerStatus("Could not list models", "down");
      return false;
    }
    const list = await response.json();
    models = (list && Array.isArray(list.data) ? list.data : []).filter((m) => m && m.id);
    const ids = models.map((m) => m.id);
    ui.model.replaceChildren(...ids.map((id) => new Option(id, id)));
    if (ids.includes(settings.model)) ui.model.value = settings.model;
    else if (ids.length) { settings.model = ids[0]; ui.model.value = ids[0]; saveSettings(); }
    ui.model.disabled = ids.length <= 1;
    ui.modelPicker.hidden = ids.length === 0;
    showContextLength();
    hideAuthPanel();
    setServerStatus(ids.length ? "Ready" : "No model loaded", ids.length ? "ready" : "down");
    return true;
  }

  // ---------- settings ----------

  let models = [];

  // Camelid (like llama-server) tells each model's context length beside OpenAI's fields; it bounds max tokens.
  function showContextLength() {
    const model = models.find((m) => m.id === ui.model.value);
    const context = model && model.meta && model.meta.context_length;
    if (context) {
      ui.maxTokens.max = String(context);
      ui.maxTokens.placeholder = "auto (context " + context + ")";
    } else {
      ui.maxTokens.removeAttribute("max");
      ui.maxTokens.placeholder = "auto";
    }
  }

  function numberOrNull(input) {
    const value = input.value.trim();
    if (value === "") return null;
    const number = Number(value);
    return Number.isFinite(number) ? number : null;
  }

  function saveSettings() {
    writeJson(storageKeys.settings, settings);
  }

  function showSettings() {
    ui.systemPrompt.value = settings.systemPrompt || "";
    ui.temperature.value = settings.temperature ?? "";
    ui.topP.value = settings.topP ?? "";
    ui.maxTokens.value = settings.maxTokens ?? "";
  }

  function readSettingsFromInputs() {
    settings.systemPrompt = ui.systemPrompt.value;
    settings.temperature = numberOrNull(ui.temperature);
    settings.topP = numberOrNull(ui.topP);
    const maxTokens = numberOrNull(ui.maxTokens);
    settings.maxTokens = maxTokens === null ? null : Math.max(1, Math.round(maxTokens));
    if (ui.model.value) settings.model = ui.model.value;
    saveSettings();
  }

  function requestBody(conversation) {
    const messages = [];
    if (settings.systemPrompt && settings.systemPrompt.trim()) messages.push({ role: "system", content: settings.systemPrompt });
    for (const m of conversation.messages) {
      if (m.pending) continue;
      messages.push({ role: m.role, content: m.content });
    }
    const body = { model: ui.model.value || settings.model, messages, stream: true, stream_options: { include_usage: true } };
    // Empty fields are left out so the server's own defaults apply.
    if (settings.temperature !== null) body.temperature = settings.temperature;
    if (settings.topP !== null) body.top_p = settings.topP;
    if (settings.maxTokens !== null) body.max_tokens = settings.maxTokens;
    return body;
  }

  // ---------- generation ----------

  async function generate(conversation) {
    const message = { role: "assistant", content: "", pending: true };
    conversation.messages.push(message);
    conversation.updatedAt = Date.now();
    const controller = new AbortController();
    generation = { conversation, message, controller };
    hideError();
    render();

    let firstTokenAt = null, lastTokenAt = null, deltaCount = 0, usage = null, finishReason = null;
    let failure = null, stopped = false;
    try {
      const response = await fetch("v1/chat/completions", {
        method: "POST",
        headers: Object.assign({ "Content-Type": "application/json" }, authHeaders()),
        body: JSON.stringify(requestBody(conversation)),
        signal: controller.signal,
      });
      if (!response.ok) throw await errorFromResponse(response);

      const contentType = response.headers.get("Content-Type") || "";
      if (!contentType.includes("text/event-stream")) {
        // A server that ignores "stream" answers with one chat.completion object.
        const completion = await response.json();
        const choice = completion.choices && completion.choices[0];
        message.content = (choice && choice.message && choice.message.content) || "";
        finishReason = choice && choice.finish_reason;
        usage = completion.usage || null;
      } else {
        for await (const data of serverSentEvents(response.body)) {
          if (data.trim() === "[DONE]") break;
          let chunk;
          try { chunk = JSON.parse(data); } catch { continue; }
          if (chunk.error) throw new ServerError(chunk.error.message || String(chunk.error), 0, chunk.error.code);
          for (const choice of chunk.choices || []) {
            const text = choice.delta && choice.delta.content;
            if (text) {
              const now = performance.now();
              if (firstTokenAt === null) firstTokenAt = now;
              lastTokenAt = now;
              deltaCount++;
              message.content += text;
              renderStreamingSoon();
            }
            if (choice.finish_reason) finishReason = choice.finish_reason;
          }
          if (chunk.usage) usage = chunk.usage;
        }
      }
    } catch (e) {
      if (e.name === "AbortError") stopped = true;
      else failure = e;
    }

    delete message.pending;
    generation = null;
    // Tokens per second over the decode: the clock starts when the first token arrives, so n tokens
    // span n - 1 intervals. Without a usage chunk (a stopped answer) each content delta counts as one.
    const tokens = usage && Number.isFinite(usage.completion_tokens) ? usage.completion_tokens : deltaCount;
    const seconds = firstTokenAt !== null ? (lastTokenAt - firstTokenAt) / 1000 : 0;
    message.stats = {
      tokens,
      exact: !!usage,
      tokensPerSecond: tokens > 1 && seconds > 0 ? (tokens - 1) / seconds : null,
      finishReason: stopped ? "stopped" : failure ? "error" : finishReason || null,
    };
    if (message.content === "") conversation.messages.splice(conversation.messages.indexOf(message), 1);
    conversation.updatedAt = Date.now();
    saveConversations();
    render();

    if (failure) {
      if (failure.status === 401) {
        showAuthPanel(apiKey ? "That key was not accepted: " + failure.message : failure.message);
      } else if (failure instanceof ServerError) {
        showError(failure.message + (failure.code && !failure.message.includes(failure.code) ? " (" + failure.code + ")" : ""));
      } else {
        showError("Could not reach the server: " + failure.message);
      }
    }
  }

  function send() {
    const text = ui.prompt.value;
    if (!text.trim() || generation) return;
    readSettingsFromInputs();
    let conversation = activeConversation();
    if (!conversation) {
      conversation = { id: newConversationId(), title: titleFrom(text), messages: [], createdAt: Date.now(), updatedAt: Date.now() };
      conversations.unshift(conversation);
      activeId = conversation.id;
    }
    if (!conversation.messages.some((m) => m.role === "user")) conversation.title = titleFrom(text);
    conversation.messages.push({ role: "user", content: text });
    ui.prompt.value = "";
    resizePrompt();
    saveConversations();
    generate(conversation);
  }

  function regenerate() {
    const conversation = activeConversation();
    if (!conversation || generation) return;
    const messages = conversation.messages;
    if (messages.length && messages[messages.length - 1].role === "assistant") messages.pop();
    if (!messages.length || messages[messages.length - 1].role !== "user") return;
    readSettingsFromInputs();
    generate(conversation);
  }

  function stop() {
    if (generation) generation.controller.abort();
  }

  // ---------- rendering ----------

  function formatStats(stats) {
    if (!stats) return "";
    const parts = [];
    if (stats.tokensPerSecond) parts.push(stats.tokensPerSecond.toFixed(1) + " tok/s");
    if (stats.tokens) parts.push((stats.exact ? "" : "~") + stats.tokens + (stats.tokens === 1 ? " token" : " tokens"));
    const reasons = { length: "hit max tokens", stopped: "stopped", interrupted: "interrupted", error: "error" };
    if (reasons[stats.finishReason]) parts.push(reasons[stats.finishReason]);
    return parts.join(" · ");
  }

  function messageElement(message) {
    const article = document.createElement("article");
    article.className = "message " + message.role + (message.pending ? " streaming" : "");
    article.dataset.role = message.role;

    const role = document.createElement("div");
    role.className = "message-role";
    role.textContent = message.role === "user" ? "You" : "Assistant";
    article.append(role);

    const body = document.createElement("div");
    body.className = "message-body";
    if (message.role === "assistant") {
      body.classList.add("markdown");
      body.innerHTML = window.CamelidMarkdown.render(message.content);
    } else {
      body.textContent = message.content;
    }
    article.append(body);

    const footer = document.createElement("div");
    footer.className = "message-footer";
    if (message.role === "assistant") {
      const stats = document.createElement("span");
      stats.className = "tokens-per-second";
      stats.textContent = formatStats(message.stats);
      footer.append(stats);
    }
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "copy-message";
    copy.textContent = "Copy";
    copy.title = "Copy this message";
    copy.addEventListener("click", () => copyText(message.content, copy));
    footer.append(copy);
    article.append(footer);
    return article;
  }

  function isNearBottom() {
    const m = ui.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }

  function scrollToBottom() {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  function renderConversationList() {
    const items = [...conversations].sort((a, b) => (b.updatedAt || 0) - (a.updatedAt || 0)).map((conversation) => {
      const item = document.createElement("li");
      item.className = "conversation" + (conversation.id === activeId ? " active" : "");
      item.dataset.id = conversation.id;

      const open = document.createElement("button");
      open.type = "button";
      open.className = "conversation-open";
      open.textContent = conversation.title || "New chat";
      open.title = conversation.title || "New chat";
      if (conversation.id === activeId) open.setAttribute("aria-current", "true");
      open.addEventListener("click", () => switchTo(conversation.id));

      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "delete-conversation";
      remove.setAttribute("aria-label", "Delete conversation: " + (conversation.title || "New chat"));
      remove.title = "Delete";
      remove.textContent = "✕";
      remove.addEventListener("click", () => deleteConversation(conversation.id));

      item.append(open, remove);
      return item;
    });
    ui.conversationList.replaceChildren(...items);
  }

  let streamingElement = null;
  function renderMessages() {
    const conversation = activeConversation();
    const messages = conversation ? conversation.messages : [];
    ui.title.textContent = conversation ? conversation.title : "New chat";
    const elements = messages.map((message) => {
      const element = messageElement(message);
      if (generation && message === generation.message) streamingElement = element;
      return element;
    });
    ui.emptyState.hidden = messages.length > 0;
    ui.messages.replaceChildren(ui.emptyState, ...elements);
  }

  let streamingFrame = 0;
  function renderStreamingSoon() {
    if (streamingFrame) return;
    streamingFrame = requestAnimationFrame(() => {
      streamingFrame = 0;
      if (!generation || generation.conversation.id !== activeId || !streamingElement) return;
      const follow = isNearBottom();
      streamingElement.querySelector(".message-body").innerHTML = window.CamelidMarkdown.render(generation.message.content);
      if (follow) scrollToBottom();
      saveConversationsSoon();
    });
  }

  function updateControls() {
    const busy = generation !== null;
    ui.send.hidden = busy;
    ui.stop.hidden = !busy;
    ui.app.classList.toggle("busy", busy);
    const conversation = activeConversation();
    const messages = conversation ? conversation.messages : [];
    const last = messages[messages.length - 1];
    ui.regenerate.hidden = busy || !last || (last.role !== "assistant" && last.role !== "user");
    ui.regenerate.textContent = last && last.role === "user" ? "↻ Retry" : "↻ Regenerate";
  }

  function render() {
    streamingElement = null;
    renderConversationList();
    renderMessages();
    updateControls();
    scrollToBottom();
  }

  // ---------- actions ----------

  function switchTo(id) {
    activeId = id;
    saveConversations();
    closeSidebar();
    render();
    ui.prompt.focus();
  }

  function newChat() {
    activeId = null;
    saveConversations();
    closeSidebar();
    render();
    ui.prompt.focus();
  }

  function deleteConversation(id) {
    if (generation && generation.conversation.id === id) generation.controller.abort();
    conversations = conversations.filter((c) => c.id !== id);
    if (activeId === id) activeId = null;
    saveConversations();
    render();
  }

  async function copyText(text, button) {
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch {
      // The async clipboard needs a secure context; a plain-http LAN address is not one.
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.append(area);
      area.select();
      try { copied = document.execCommand("copy"); } catch { copied = false; }
      area.remove();
    }
    const label = button.textContent;
    button.textContent = copied ? "Copied" : "Copy failed";
    button.classList.toggle("copied", copied);
    setTimeout(() => { button.textContent = label; button.classList.remove("copied"); }, 1500);
  }

  function showError(text) {
    const follow = isNearBottom();
    ui.errorText.textContent = text;
    ui.error.hidden = false;
    if (follow) scrollToBottom();
  }

  function hideError() {
    ui.error.hidden = true;
    ui.errorText.textContent = "";
  }

  function showAuthPanel(message) {
    ui.authPanel.hidden = false;
    ui.authMessage.textContent = message || "";
    ui.apiKey.value = apiKey;
    ui.apiKey.focus();
  }

  function hideAuthPanel() {
    ui.authPanel.hidden = true;
    ui.authMessage.textContent = "";
  }

  function openSidebar() {
    ui.app.classList.add("sidebar-open");
    ui.backdrop.hidden = false;
    ui.sidebarToggle.setAttribute("aria-expanded", "true");
  }

  function closeSidebar() {
    ui.app.classList.remove("sidebar-open");
    ui.backdrop.hidden = true;
    ui.sidebarToggle.setAttribute("aria-expanded", "false");
  }

  function choosePlaceholder() {
    ui.prompt.placeholder = narrowLayout.matches ? "Message" : "Send a message (Enter to send, Shift+Enter for a new line)";
  }

  function resizePrompt() {
    ui.prompt.style.height = "auto";
    ui.prompt.style.height = Math.min(ui.prompt.scrollHeight, 200) + "px";
  }

  // ---------- wiring ----------

  ui.composer.addEventListener("submit", (e) => { e.preventDefault(); send(); });
  ui.prompt.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  ui.prompt.addEventListener("input", resizePrompt);
  ui.stop.addEventListener("click", stop);
  ui.regenerate.addEventListener("click", regenerate);
  ui.newChat.addEventListener("click", newChat);
  ui.dismissError.addEventListener("click", hideError);
  ui.sidebarToggle.addEventListener("click", openSidebar);
  ui.closeSidebar.addEventListener("click", closeSidebar);
  ui.backdrop.addEventListener("click", closeSidebar);
  narrowLayout.addEventListener("change", () => { closeSidebar(); choosePlaceholder(); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeSidebar(); });

  ui.settingsToggle.addEventListener("click", () => {
    const open = ui.settingsPanel.hidden;
    ui.settingsPanel.hidden = !open;
    ui.settingsToggle.setAttribute("aria-expanded", String(open));
  });
  for (const input of [ui.systemPrompt, ui.temperature, ui.topP, ui.maxTokens, ui.model])
    input.addEventListener("change", readSettingsFromInputs);
  ui.model.addEventListener("change", showContextLength);

  ui.authForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    apiKey = ui.apiKey.value.trim();
    if (apiKey) localStorage.setItem(storageKeys.apiKey, apiKey);
    else localStorage.removeItem(storageKeys.apiKey);
    ui.authMessage.textContent = "Checking…";
    if (await loadModels()) ui.prompt.focus();
  });

  // Code-block copy buttons are created by the Markdown renderer as plain HTML, so they are handled here.
  ui.messages.addEventListener("click", (e) => {
    const button = e.target.closest(".copy-code");
    if (!button) return;
    const code = button.closest(".code-block").querySelector("code");
    copyText(code.textContent, button);
  });

  // Another tab changed the conversations: follow it unless this tab is in the middle of an answer.
  window.addEventListener("storage", (e) => {
    if (e.key !== storageKeys.conversations || generation) return;
    conversations = loadConversations();
    if (!conversations.some((c) => c.id === activeId)) activeId = null;
    render();
  });

  showSettings();
  choosePlaceholder();
  render();
  ui.prompt.focus();
  waitUntilHealthy().then((healthy) => { if (healthy) loadModels(); });
})();
