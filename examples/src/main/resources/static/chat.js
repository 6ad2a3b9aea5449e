// A plain browser client of the example gateway: no build step, no framework.
const API = "/api/v1/llm-chat/recruiter";
const answer = document.getElementById("answer");
const status = document.getElementById("status");
let token = null;

async function signIn() {
  // The example gateway issues demo user tokens; a real host has its own login.
  const res = await fetch("/demo/token", { method: "POST" });
  token = (await res.json()).data.token;
  status.textContent = "Signed in as the demo user.";
}

function show(text) { answer.textContent += text; }

// POSTs the query to one of the chat routes as the signed-in user.
function askFor(route) {
  return fetch(API + route, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
    body: JSON.stringify({ query: document.getElementById("query").value }),
  });
}

function handle(type, data) {
  if (type === "chunk") {
    const event = JSON.parse(data);
    if (event.type === "token") show(event.content);
  } else if (type === "complete") {
    const done = JSON.parse(data);
    status.textContent = "Done: " + (done.usage ? done.usage.total_tokens + " tokens" : "no usage reported");
  } else if (type === "error") {
    status.textContent = "Error: " + JSON.parse(data).message;
  }
}

// Through the gateway: POST, then read the server-sent events from the response body.
async function askRelay() {
  answer.textContent = "";
  status.textContent = "Streaming through the gateway…";
  const res = await askFor("/chat/stream");
  if (!res.ok) {
    status.textContent = "Error: " + (await res.json()).message;
    return;
  }
  await readEvents(res, handle);
}

// Reads server-sent events from a fetch response's body, calling onEvent(type, data) for each,
// until the body ends. (EventSource cannot send the Authorization header.)
async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(type, data.join("\n"));
    }
  }
}

// Direct: ask the gateway for a stream token, then let EventSource read the service itself.
async function askDirect() {
  answer.textContent = "";
  status.textContent = "Starting a direct stream…";
  const res = await askFor("/chat/init");
  const envelope = await res.json();
  if (!res.ok) {
    status.textContent = "Error: " + envelope.message;
    return;
  }
  const source = new EventSource(envelope.data.url);
  source.onmessage = (e) => {
    if (e.data === "[DONE]") { source.close(); return; }
    const event = JSON.parse(e.data);
    if (event.type === "token") show(event.content);
    if (event.type === "done") status.textContent = "Done (direct): " + (event.usage ? event.usage.total_tokens + " tokens" : "");
    if (event.type === "error") { status.textContent = "Error: " + event.message; source.close(); }
  };
  // EventSource would reconnect (and the single-use token would be refused): stop, and say so unless it ended.
  source.onerror = () => {
    source.close();
    if (!status.textContent.startsWith("Done") && !status.textContent.startsWith("Error")) {
      status.textContent = "Error: the direct stream could not be read (is the service reachable from this page?)";
    }
  };
}

// In the background: the page keeps GET /events open and shows each background answer as its
// events arrive (started, token, completed or failed, named by chat_id), whoever is waiting.
const eventsStatus = document.getElementById("events-status");
const backgroundAnswers = document.getElementById("background-answers");
const backgroundChats = new Map();
let subscribed;
const whenSubscribed = new Promise((resolve) => (subscribed = resolve));

function backgroundAnswer(chatId) {
  let element = backgroundChats.get(chatId);
  if (!element) {
    element = document.createElement("div");
    element.className = "background-answer";
    element.dataset.chatId = chatId;
    backgroundAnswers.appendChild(element);
    backgroundChats.set(chatId, element);
  }
  return element;
}

function handleBackground(type, data) {
  const event = JSON.parse(data);
  const element = backgroundAnswer(event.chat_id);
  if (type === "token") {
    element.textContent += event.text;
  } else if (type === "completed") {
    element.textContent = event.answer; // the whole answer, also when this page subscribed mid-way
    element.dataset.done = "true";
    status.textContent = "Done (background): " + event.credits + (event.credits === 1 ? " credit" : " credits");
  } else if (type === "failed") {
    element.dataset.done = "true";
    status.textContent = "Error (background): " + event.message;
  }
}

// Subscribes, and subscribes again a second after the subscription ends or is refused (the host
// closed it or is busy, the network dropped); gives up when the user is not signed in.
async function subscribe() {
  for (;;) {
    try {
      const res = await fetch(API + "/events", { headers: { "Authorization": "Bearer " + token } });
      if (res.ok) {
        eventsStatus.textContent = "Subscribed: answers asked in the background appear here.";
        subscribed();
        await readEvents(res, handleBackground);
        eventsStatus.textContent = "Subscribing again…";
      } else {
        eventsStatus.textContent = "Error: " + (await res.json()).message;
        if (res.status === 401 || res.status === 404) return;
      }
    } catch (e) {
      eventsStatus.textContent = "Subscribing again…";
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function askInBackground() {
  await whenSubscribed; // a chat started before the subscription would publish to nobody
  const res = await askFor("/chat/background");
  const envelope = await res.json();
  if (!res.ok) {
    status.textContent = "Error: " + envelope.message;
    return;
  }
  // Its events may have come first, on the other connection: then it is answered already.
  if (!backgroundAnswer(envelope.data.chat_id).dataset.done) {
    status.textContent = "Asked in the background: the answer appears below when its events arrive.";
  }
}

document.getElementById("relay").onclick = () => askRelay().catch((e) => (status.textContent = "Error: " + e));
document.getElementById("direct").onclick = () => askDirect().catch((e) => (status.textContent = "Error: " + e));
document.getElementById("background").onclick = () => askInBackground().catch((e) => (status.textContent = "Error: " + e));
// ?ask=relay, ?ask=direct or ?ask=background asks at once (used by the headless-browser test).
const ask = new URLSearchParams(location.search).get("ask");
signIn()
  .then(() => {
    subscribe();
    return ask === "relay" ? askRelay() : ask === "direct" ? askDirect() : ask === "background" ? askInBackground() : null;
  })
  .catch((e) => (status.textContent = "Error: " + e));
