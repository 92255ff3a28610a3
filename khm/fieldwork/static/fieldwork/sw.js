/* KHM phone app: service worker (served at /m/sw.js, scope /m/).
 *
 * The view puts `const KHM_SW = {version, shell, assets, api}` in front of this file.
 * Caches the app shell and its files at install, serves them cache-first so the app opens
 * offline (a reload included), refreshes the cached shell in the background when online.
 * Never caches the API: the data lives in IndexedDB, written by app.js.
 */
"use strict";

const CACHE_PREFIX = "khm-m-";
const CACHE = CACHE_PREFIX + KHM_SW.version;
const SHELL = KHM_SW.shell;
const ASSETS = KHM_SW.assets;

function usableShell(response) {
  // A redirect (to the login page) or an error page must never replace the cached shell.
  return response && response.ok && !response.redirected && response.type === "basic" &&
    (response.headers.get("content-type") || "").startsWith("text/html");
}

async function fetchShell() {
  const response = await fetch(new Request(SHELL, { cache: "no-store", credentials: "same-origin" }));
  return usableShell(response) ? response : null;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS.map((url) => new Request(url, { cache: "reload" })));
    let shell = null;
    try { shell = await fetchShell(); } catch (e) { shell = null; }
    if (!shell) shell = await caches.match(SHELL, { ignoreSearch: true, ignoreVary: true });
    if (shell) await cache.put(SHELL, shell);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function fromCache(request) {
  const cache = await caches.open(CACHE);
  return cache.match(request, { ignoreVary: true });
}

async function refreshShell() {
  try {
    const response = await fetchShell();
    if (response) {
      const cache = await caches.open(CACHE);
      await cache.put(SHELL, response);
    }
  } catch (e) {
    /* offline: keep the cached shell */
  }
}

async function serveShell(event) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(SHELL, { ignoreSearch: true, ignoreVary: true });
  if (cached) {
    event.waitUntil(refreshShell());
    return cached;
  }
  const response = await fetch(event.request);
  if (usableShell(response)) await cache.put(SHELL, response.clone());
  return response;
}

async function serveAsset(request) {
  const cached = await fromCache(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(KHM_SW.api)) return; // never cached: straight to the network
  if (request.mode === "navigate" && url.pathname === SHELL) {
    event.respondWith(serveShell(event));
    return;
  }
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(serveAsset(request));
  }
});

/* Put back what is missing (after the app's log out emptied the caches, say). */
async function precache() {
  const cache = await caches.open(CACHE);
  for (const url of ASSETS) {
    if (await cache.match(url)) continue;
    try { await cache.add(new Request(url, { cache: "reload" })); } catch (e) { /* offline: next time */ }
  }
  if (!(await cache.match(SHELL, { ignoreSearch: true, ignoreVary: true }))) await refreshShell();
}

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
  else if (event.data === "precache") event.waitUntil(precache());
});
