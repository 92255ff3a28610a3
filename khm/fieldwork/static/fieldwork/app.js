/* KHM phone app: verify households fully offline (vanilla ES2020, IndexedDB, service worker).
 *
 * Data flow: POST /api/v1/fieldwork/download → IndexedDB (households, questionnaire) → the
 * volunteer fills a form, saved as a draft on every change → "บันทึก" moves it to the outbox
 * with a fresh idempotency key → sync uploads the photos one by one, then the submission;
 * only the server's answer (201/200) marks an item sent. Nothing leaves the outbox unconfirmed.
 *
 * IndexedDB "khm-fieldwork" v1, stores:
 *   meta        {k, v}: owner (username), bundle (questionnaire, outcomes, campaigns), device, downloaded_at
 *   households  the downloaded households (key: code), exactly those of the last download
 *   drafts      one per household (key: household), with the values as downloaded (base)
 *   outbox      saved verifications (key: idempotency key): queued | error | sent (sent: a summary only)
 *   photos      resized JPEG blobs (key: photo key), `stored` once the server confirmed it
 */
"use strict";
(() => {
  const body = document.body;
  const CFG = {
    user: body.dataset.user || "",
    name: body.dataset.name || body.dataset.user || "",
    lang: body.dataset.lang === "en" ? "en" : "th",
    csrf: body.dataset.csrf || "",
    api: body.dataset.api || "/api/v1",
    sw: body.dataset.sw || "/m/sw.js",
    scope: body.dataset.scope || "/m/",
    login: body.dataset.login || "/accounts/login/",
    logout: body.dataset.logout || "/accounts/logout/",
  };
  const main = document.getElementById("main");
  const SAVE_DELAY = 400;
  const MAX_PHOTOS = 8;
  const PHOTO_EDGE = 1280;
  const PHOTO_QUALITY = 0.7;
  const KEEP_SENT_DAYS = 7;
  const ANSWERED_OUTCOMES = ["confirmed_poor", "not_poor"];
  const HOUSE_NO_RE = /^[0-9๐-๙][0-9๐-๙/-]*$/;

  // ------------------------------------------------------------------ language
  const EN = {
    "ตรวจสอบครัวเรือน": "Household verification",
    "ออกจากระบบ": "Log out",
    "ออนไลน์": "Online",
    "ออฟไลน์": "Offline",
    "ดาวน์โหลดงาน": "Download assignments",
    "กำลังดาวน์โหลด…": "Downloading…",
    "ส่งข้อมูล": "Send",
    "กำลังส่ง…": "Sending…",
    "รอส่ง {n} รายการ": "{n} waiting to send",
    "ดาวน์โหลดล่าสุด {t}": "Last download {t}",
    "ยังไม่ได้ดาวน์โหลดงาน": "No assignments downloaded yet",
    "ยังไม่ตรวจ": "To do",
    "ร่าง": "Draft",
    "รอส่ง": "Waiting",
    "ต้องแก้ไข": "Needs correction",
    "ส่งแล้ว": "Sent",
    "ค้นหาบ้านเลขที่หรือชื่อ": "Find a house number or name",
    "ไม่มีครัวเรือนที่ได้รับมอบหมาย": "No households assigned to you",
    "ส่งแล้ว {n} รายการ": "{n} sent",
    "มีข้อมูลขัดแย้ง รอเจ้าหน้าที่ตรวจ": "Conflicting data: waiting for an officer",
    "เลขอ้างอิง {r}": "Reference {r}",
    "บ้านเลขที่": "House number",
    "บ้านเลขที่ {n}": "House {n}",
    "หมู่ {n}": "Moo {n}",
    "ต.{n}": "Tambon {n}",
    "ไม่ทราบชื่อหัวหน้าครัวเรือน": "Head unknown",
    "← กลับไปรายการ": "← Back to the list",
    "ไม่พบครัวเรือนนี้ในเครื่อง": "This household is not on this phone",
    "ผลการตรวจสอบ": "Outcome",
    "ย้ายไปที่ไหน": "Moved to where?",
    "ซ้ำกับครัวเรือนรหัส": "Duplicate of household code",
    "แบบสอบถามทุน 5 ด้าน": "Five-capitals questionnaire",
    "ตอบแล้ว {a}/{n}": "{a}/{n} answered",
    "ล้างคำตอบ": "Clear",
    "บัตรสวัสดิการแห่งรัฐ": "State welfare card",
    "ติ๊กสมาชิกที่ถือบัตรสวัสดิการแห่งรัฐ": "Tick the members who hold the state welfare card",
    "สมาชิกในครัวเรือน": "Household members",
    "ยังอยู่": "Lives here",
    "ย้ายออก": "Moved out",
    "เสียชีวิต": "Deceased",
    "แก้ไขชื่อ": "Edit name",
    "ชื่อ": "First name",
    "นามสกุล": "Last name",
    "ความสัมพันธ์กับหัวหน้าครัวเรือน": "Relation to the head",
    "อายุ {n} ปี": "{n} years old",
    "เพิ่มสมาชิกใหม่": "Add a new member",
    "สมาชิกใหม่ {n}": "New member {n}",
    "เพศ": "Sex",
    "ชาย": "Male",
    "หญิง": "Female",
    "วันเกิด (ถ้าทราบ)": "Date of birth (if known)",
    "ลบสมาชิกใหม่นี้": "Remove this new member",
    "ที่อยู่": "Address",
    "รายละเอียดที่อยู่": "Address details",
    "พิกัด GPS": "GPS position",
    "บันทึกพิกัด GPS": "Record the GPS position",
    "กำลังหาพิกัด…": "Finding the position…",
    "ยังไม่ได้บันทึกพิกัด": "No position recorded",
    "ล้างพิกัด": "Clear the position",
    "รูปถ่าย": "Photos",
    "ถ่ายรูป / เลือกรูป": "Take or choose a photo",
    "รูปที่ {n}": "Photo {n}",
    "ลบรูป": "Remove",
    "หมายเหตุ": "Notes",
    "ความยินยอม": "Consent",
    "แจ้งวัตถุประสงค์และได้รับความยินยอมแล้ว": "Purpose explained and consent given",
    "บันทึก": "Save",
    "ลบร่าง": "Discard draft",
    "บันทึกร่างแล้ว {t}": "Draft saved {t}",
    "กำลังบันทึกร่าง…": "Saving the draft…",
    "มีปัญหาที่ต้องแก้ก่อนบันทึก": "Please fix these first",
    "เลือกผลการตรวจสอบ": "Choose an outcome",
    "ต้องแจ้งวัตถุประสงค์และได้รับความยินยอมก่อนบันทึก": "Explain the purpose and get consent before saving",
    "ระบุว่าย้ายไปที่ไหน": "Say where the household moved to",
    "ระบุรหัสครัวเรือนที่ซ้ำ": "Give the code of the other household",
    "บ้านเลขที่ใช้ได้เฉพาะตัวเลข / และ - เช่น 45/1": "A house number has digits, '/' and '-' only, e.g. 45/1",
    "สมาชิกใหม่ต้องมีชื่อ นามสกุล และเพศ": "A new member needs a first name, last name and sex",
    "พิกัดอยู่นอกประเทศไทย ลองบันทึกใหม่": "The position is outside Thailand: record it again",
    "บันทึกแล้ว รอส่ง": "Saved: waiting to send",
    "รายการนี้รอส่ง": "This verification is waiting to be sent",
    "นำกลับมาแก้ไข": "Take it back to edit",
    "รายการนี้ส่งแล้ว": "This verification has been sent",
    "เซิร์ฟเวอร์ไม่รับรายการนี้ แก้ไขแล้วบันทึกใหม่": "The server refused this verification: correct it and save again",
    "ออฟไลน์อยู่ ดาวน์โหลดไม่ได้": "Offline: cannot download",
    "ออฟไลน์อยู่ จะส่งเมื่อมีสัญญาณ": "Offline: will send when there is a connection",
    "ดาวน์โหลดแล้ว {n} ครัวเรือน": "Downloaded {n} households",
    "เชื่อมต่อเซิร์ฟเวอร์ไม่ได้ ข้อมูลยังอยู่ในเครื่อง": "Cannot reach the server: everything is kept on the phone",
    "เซิร์ฟเวอร์ขัดข้อง ลองใหม่ภายหลัง ข้อมูลยังอยู่ในเครื่อง": "Server trouble: try again later; everything is kept on the phone",
    "กรุณาเข้าสู่ระบบใหม่": "Please log in again",
    "เข้าสู่ระบบ": "Log in",
    "ส่งสำเร็จ {n} รายการ": "{n} sent",
    "ต้องแก้ไข {n} รายการ": "{n} need correction",
    "ยังมีข้อมูลที่ยังไม่ได้ส่ง": "There is data not sent yet",
    "ยังมีข้อมูลที่ยังไม่ได้ส่ง {n} รายการ ถ้าออกจากระบบ ข้อมูลนี้จะถูกลบจากเครื่อง ออกจากระบบหรือไม่?":
      "{n} verifications are not sent yet. Logging out deletes them from this phone. Log out anyway?",
    "ยังมีร่างที่ยังไม่ได้บันทึก {n} รายการ ถ้าออกจากระบบ ร่างจะถูกลบ ออกจากระบบหรือไม่?":
      "{n} drafts are not saved yet. Logging out deletes them. Log out anyway?",
    "ลบข้อมูลในเครื่องแล้ว เชื่อมต่ออินเทอร์เน็ตแล้วกดออกจากระบบอีกครั้ง": "The data on this phone is deleted. Connect to the internet and log out again.",
    "ลบร่างนี้หรือไม่?": "Discard this draft?",
    "เครื่องนี้มีข้อมูลของผู้ใช้ {u} ที่ยังไม่ได้ส่ง ให้ {u} เข้าสู่ระบบเพื่อส่งข้อมูลก่อน": "This phone holds data of user {u} not sent yet: {u} must log in and send it first",
    "ข้อมูลในเครื่องเป็นของผู้ใช้ {u} เชื่อมต่ออินเทอร์เน็ตเพื่อตรวจสอบ": "The data on this phone belongs to user {u}: connect to the internet to check",
    "เบราว์เซอร์นี้เก็บข้อมูลในเครื่องไม่ได้ (IndexedDB) ใช้ Chrome รุ่นใหม่ และไม่ใช้โหมดไม่ระบุตัวตน": "This browser cannot store data (IndexedDB): use a recent Chrome, not in incognito mode",
    "อ่านรูปไม่ได้": "Cannot read the photo",
    "รูปครบ {n} รูปแล้ว": "At most {n} photos",
    "หาพิกัดไม่ได้: {e}": "No position: {e}",
    "ความแม่นยำต่ำ ลองอีกครั้งในที่โล่ง": "Low accuracy: try again in the open",
    "ทะเบียนเปลี่ยนเป็น “{v}” หลังเริ่มร่าง": "The registry changed to “{v}” after this draft began",
    "ระดับ {l}": "Level {l}",
    "ไม่พบรูปในเครื่อง ลบรูปแล้วบันทึกใหม่": "A photo is missing on the phone: remove it and save again",
    "ต้องออนไลน์เพื่อตรวจสอบว่ารายการนี้ถึงเซิร์ฟเวอร์แล้วหรือยัง": "Go online to check whether the server got this verification",
    "แก้ไขรายการ": "Edit",
    "รายการที่รอส่ง": "Waiting to send",
    "มีรุ่นใหม่ของแอป จะใช้เมื่อเปิดครั้งถัดไป": "A new version of the app is ready: it is used the next time the app opens",
    "ช่องนี้": "this field",
    "สถานะ": "Status",
    "สถานะการส่งข้อมูล": "Sending status",
    "วันที่ตรวจสอบ": "Verification date",
    "รอบการตรวจสอบ": "Campaign",
    "ครัวเรือน": "Household",
  };
  function t(th, vars) {
    let s = CFG.lang === "en" && EN[th] ? EN[th] : th;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
    return s;
  }
  const L = (label) => (!label ? "" : typeof label === "string" ? label : CFG.lang === "en" ? label.en || label.th : label.th || label.en);

  const OUTCOMES_TH = {
    confirmed_poor: "ยืนยันว่ายากจน",
    not_poor: "ไม่ยากจน",
    moved: "ย้ายออกจากพื้นที่",
    deceased: "เสียชีวิตทั้งครัวเรือน",
    not_found: "ไม่พบครัวเรือน",
    duplicate: "ซ้ำกับครัวเรือนอื่น",
  };
  const OUTCOMES_EN = {
    confirmed_poor: "Confirmed poor", not_poor: "Not poor", moved: "Moved", deceased: "Deceased",
    not_found: "Not found", duplicate: "Duplicate of another household",
  };
  const RELATIONS = [
    ["head", "หัวหน้าครัวเรือน", "Head of household"], ["spouse", "คู่สมรส", "Spouse"], ["child", "บุตร", "Child"],
    ["grandchild", "หลาน", "Grandchild"], ["parent", "บิดา/มารดา", "Parent"], ["sibling", "พี่น้อง", "Sibling"],
    ["relative", "ญาติอื่น", "Other relative"], ["other", "ผู้อาศัย (ไม่ใช่ญาติ)", "Not related"],
  ];
  const relationLabel = (v) => {
    const r = RELATIONS.find((x) => x[0] === v);
    return r ? (CFG.lang === "en" ? r[2] : r[1]) : v || "";
  };
  function outcomeLabel(value) {
    if (CFG.lang === "en") return OUTCOMES_EN[value] || value;
    return OUTCOMES_TH[value] || ((S.meta.bundle?.outcomes || []).find((o) => o.value === value) || {}).label || value;
  }

  // ------------------------------------------------------------------ small helpers
  function h(tag, props, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k === "dataset") Object.assign(e.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
      else if (k === "value" || k === "checked") e[k] = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      e.append(kid instanceof Node ? kid : String(kid));
    }
    return e;
  }
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const clone = (o) => JSON.parse(JSON.stringify(o));
  const norm = (v) => (v === null || v === undefined ? "" : String(v).trim());

  function newKey() {
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function today() {
    const d = new Date();
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  }
  function fmtTime(iso, withDate) {
    if (!iso) return "";
    const opts = withDate ? { dateStyle: "medium", timeStyle: "short" } : { timeStyle: "short" };
    try {
      return new Intl.DateTimeFormat(CFG.lang === "en" ? "en-GB" : "th-TH", opts).format(new Date(iso));
    } catch (e) {
      return iso;
    }
  }
  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : CFG.csrf;
  }
  const online = () => navigator.onLine !== false;

  // ------------------------------------------------------------------ IndexedDB
  const DB_NAME = "khm-fieldwork";
  const STORES = { meta: "k", households: "code", drafts: "household", outbox: "key", photos: "key" };
  let db = null;

  function req(r) {
    return new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }
  function openDB() {
    return new Promise((resolve, reject) => {
      if (!window.indexedDB) return reject(new Error("no IndexedDB"));
      const r = indexedDB.open(DB_NAME, 1);
      r.onupgradeneeded = () => {
        const d = r.result;
        for (const [name, keyPath] of Object.entries(STORES)) {
          if (!d.objectStoreNames.contains(name)) d.createObjectStore(name, { keyPath });
        }
      };
      r.onsuccess = () => {
        const d = r.result;
        d.onversionchange = () => d.close();
        resolve(d);
      };
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error("IndexedDB blocked"));
    });
  }
  /* Run fn(stores) in one transaction; resolves with fn's result once the transaction commits. */
  function tx(names, mode, fn) {
    return new Promise((resolve, reject) => {
      const tr = db.transaction(names, mode);
      const stores = {};
      for (const n of names) stores[n] = tr.objectStore(n);
      let result;
      tr.oncomplete = () => resolve(result);
      tr.onerror = () => reject(tr.error);
      tr.onabort = () => reject(tr.error || new Error("transaction aborted"));
      Promise.resolve()
        .then(() => fn(stores))
        .then((r) => { result = r; }, (e) => { try { tr.abort(); } catch (x) { /* already done */ } reject(e); });
    });
  }
  const dbGet = (store, key) => tx([store], "readonly", (s) => req(s[store].get(key)));
  const dbPut = (store, value) => tx([store], "readwrite", (s) => { s[store].put(value); });
  const dbDel = (store, key) => tx([store], "readwrite", (s) => { s[store].delete(key); });

  // ------------------------------------------------------------------ state
  const S = {
    meta: {},
    households: new Map(),
    drafts: new Map(),
    outbox: [],
    syncing: false,
    downloading: false,
    authNeeded: false,
    blocked: null,
    message: null,
    filter: "",
  };

  async function loadAll() {
    await tx(Object.keys(STORES).filter((n) => n !== "photos"), "readonly", async (s) => {
      const [meta, hhs, drafts, outbox] = await Promise.all([
        req(s.meta.getAll()), req(s.households.getAll()), req(s.drafts.getAll()), req(s.outbox.getAll()),
      ]);
      S.meta = {};
      for (const m of meta) S.meta[m.k] = m.v;
      S.households = new Map(hhs.map((x) => [x.code, x]));
      S.drafts = new Map(drafts.map((x) => [x.household, x]));
      S.outbox = outbox.sort((a, b) => a.seq - b.seq);
    });
  }
  const setMeta = (k, v) => { S.meta[k] = v; return dbPut("meta", { k, v }); };
  const unsent = () => S.outbox.filter((i) => i.state !== "sent");
  function itemOf(code) {
    let found = null;
    for (const i of S.outbox) if (i.household === code) found = i; // the latest
    return found;
  }
  function hhState(code) {
    const item = itemOf(code);
    if (item && item.state === "error") return "error";
    if (item && item.state === "queued") return "queued";
    if (item && item.state === "sent" && !S.drafts.has(code)) return "sent";
    if (S.drafts.has(code)) return "draft";
    return "todo";
  }
  const STATE_LABEL = { todo: "ยังไม่ตรวจ", draft: "ร่าง", queued: "รอส่ง", error: "ต้องแก้ไข", sent: "ส่งแล้ว" };

  function headOf(hh) {
    const members = hh.members || [];
    const head = members.find((m) => m.relation === "head") || members[0];
    return head ? [head.title, head.first_name, head.last_name].filter(Boolean).join(" ") : "";
  }
  const villageLabel = (hh) =>
    [hh.village, hh.village_no ? t("หมู่ {n}", { n: hh.village_no }) : "", hh.subdistrict ? t("ต.{n}", { n: hh.subdistrict }) : ""]
      .filter(Boolean).join(" ");
  const questionnaire = () => (S.meta.bundle && S.meta.bundle.questionnaire) || null;
  function itemsByCode() {
    const out = {};
    const q = questionnaire();
    for (const cap of (q && q.definition && q.definition.capitals) || []) for (const it of cap.items) out[it.code] = it;
    return out;
  }
  function levelLabel(level) {
    if (level === null || level === undefined) return "";
    const q = questionnaire();
    const l = ((q && q.definition && q.definition.levels) || []).find((x) => x.level === level);
    return t("ระดับ {l}", { l: level }) + (l ? " " + L(l.label) : "");
  }

  // ------------------------------------------------------------------ network
  class NetError extends Error {}
  class AuthError extends Error {}
  class ServerError extends Error {}

  async function api(method, path, opts) {
    const o = opts || {};
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), o.timeout || 30000);
    const headers = { "X-CSRFToken": csrf(), Accept: "application/json" };
    let payload;
    if (o.json !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(o.json);
    } else if (o.form) payload = o.form;
    let res;
    try {
      res = await fetch(CFG.api + path, {
        method, headers, body: payload, credentials: "same-origin", cache: "no-store", signal: ctl.signal,
      });
    } catch (e) {
      throw new NetError(String(e));
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401 || res.status === 403 || (res.redirected && res.url.includes(CFG.login))) {
      throw new AuthError(String(res.status));
    }
    if (res.status >= 500) throw new ServerError(String(res.status));
    return { status: res.status, data };
  }
  function problemText(err) {
    if (err instanceof AuthError) { S.authNeeded = true; return t("กรุณาเข้าสู่ระบบใหม่"); }
    if (err instanceof ServerError) return t("เซิร์ฟเวอร์ขัดข้อง ลองใหม่ภายหลัง ข้อมูลยังอยู่ในเครื่อง");
    if (err instanceof NetError) return t("เชื่อมต่อเซิร์ฟเวอร์ไม่ได้ ข้อมูลยังอยู่ในเครื่อง");
    return String((err && err.message) || err);
  }
  function say(text, kind) {
    S.message = text ? { text, kind: kind || "" } : null;
    renderStatus();
  }

  /* One network job at a time (download, sync); a second request of the same job joins it. */
  let chain = Promise.resolve();
  const running = {};
  function exclusive(name, fn) {
    if (running[name]) return running[name];
    const p = chain.then(fn, fn).finally(() => { delete running[name]; });
    running[name] = p;
    chain = p.catch(() => undefined);
    return p;
  }

  /* Who is signed in on the server; the phone's data belongs to one user only. */
  async function checkIdentity() {
    const r = await api("GET", "/me");
    if (r.status !== 200 || !r.data || !r.data.username) throw new ServerError(String(r.status));
    S.authNeeded = false;
    const me = r.data.username;
    if (S.meta.owner && S.meta.owner !== me) {
      if (unsent().length) {
        S.blocked = S.meta.owner;
        render();
        return false;
      }
      await wipeData();
    }
    const was = S.blocked;
    S.blocked = null;
    if (me !== CFG.user) {
      CFG.user = CFG.name = me; // the cached shell named someone else
      const who = document.getElementById("who");
      if (who) who.textContent = me;
    }
    if (was) render();
    return true;
  }

  async function wipeData() {
    const device = S.meta.device;
    await tx(Object.keys(STORES), "readwrite", (s) => {
      for (const n of Object.keys(STORES)) s[n].clear();
      if (device) s.meta.put({ k: "device", v: device });
    });
    await loadAll();
  }

  // ------------------------------------------------------------------ download
  async function storeBundle(bundle) {
    const codes = new Set(bundle.households.map((x) => x.code));
    const cutoff = Date.now() - KEEP_SENT_DAYS * 864e5;
    await tx(["households", "drafts", "outbox", "photos", "meta"], "readwrite", async (s) => {
      const [oldCodes, drafts, items, photos] = await Promise.all([
        req(s.households.getAllKeys()), req(s.drafts.getAll()), req(s.outbox.getAll()), req(s.photos.getAll()),
      ]);
      // Photos still needed: by the outbox, a kept draft, the open form, or just taken.
      const keep = new Set(F ? F.draft.photos : []);
      const recent = Date.now() - 10 * 60000;
      for (const i of items) {
        if (i.state === "sent") {
          if (Date.parse(i.sent_at || 0) < cutoff) s.outbox.delete(i.key);
        } else for (const k of i.photos || []) keep.add(k);
      }
      for (const code of oldCodes) if (!codes.has(code)) s.households.delete(code);
      for (const d of drafts) {
        if (codes.has(d.household)) for (const k of d.photos || []) keep.add(k);
        else s.drafts.delete(d.household); // assignment ended or campaign closed
      }
      for (const p of photos) {
        if (!keep.has(p.key) && !(codes.has(p.household) && Date.parse(p.created || 0) > recent)) s.photos.delete(p.key);
      }
      const at = new Date().toISOString();
      for (const x of bundle.households) s.households.put(Object.assign({}, x, { downloaded_at: at }));
      s.meta.put({ k: "owner", v: bundle.user });
      s.meta.put({
        k: "bundle",
        v: {
          format: bundle.format, generated_at: bundle.generated_at, campaigns: bundle.campaigns,
          questionnaire: bundle.questionnaire, outcomes: bundle.outcomes,
        },
      });
      s.meta.put({ k: "downloaded_at", v: at });
    });
    await loadAll();
  }

  async function doDownload() {
    if (!online()) { say(t("ออฟไลน์อยู่ ดาวน์โหลดไม่ได้"), "warn"); return false; }
    S.downloading = true;
    renderStatus();
    try {
      if (!(await checkIdentity())) return false;
      const r = await api("POST", "/fieldwork/download", { timeout: 120000 });
      if (r.status !== 200 || !r.data || !Array.isArray(r.data.households)) throw new ServerError(String(r.status));
      await storeBundle(r.data);
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => undefined);
      say(t("ดาวน์โหลดแล้ว {n} ครัวเรือน", { n: r.data.households.length }));
      return true;
    } catch (e) {
      say(problemText(e), "error");
      return false;
    } finally {
      S.downloading = false;
      refresh();
    }
  }
  const download = () => exclusive("download", doDownload);

  // ------------------------------------------------------------------ sync
  /* The errors of a 4xx answer: ours ({errors: [...]}) or django-ninja's schema errors ({detail: [...]}). */
  function errorsOf(data) {
    if (data && Array.isArray(data.errors)) return data.errors;
    if (data && Array.isArray(data.detail)) {
      return data.detail.map((d) => ({ field: (d.loc || []).filter((x) => x !== "body").join("."), message_th: d.msg || "", message_en: d.msg || "" }));
    }
    return null;
  }
  function itemError(item, errors) {
    item.state = "error";
    item.errors = (errors && errors.length ? errors : [{ field: "", message_th: t("เซิร์ฟเวอร์ไม่รับรายการนี้ แก้ไขแล้วบันทึกใหม่"), message_en: "" }]);
    return dbPut("outbox", item);
  }

  async function markSent(item, data) {
    const sent = {
      key: item.key, seq: item.seq, user: item.user, household: item.household, state: "sent",
      summary: { house_no: item.summary.house_no, village: item.summary.village, outcome: item.summary.outcome },
      ref: data.ref || "", level: data.level === undefined ? null : data.level,
      conflicts: (data.conflicts || []).map((c) => ({ person: c.person || "", field: c.field })),
      sent_at: new Date().toISOString(),
    };
    await tx(["outbox", "photos"], "readwrite", (s) => {
      s.outbox.put(sent);
      for (const k of item.photos || []) s.photos.delete(k); // the server has them now
    });
    Object.assign(item, sent);
    for (const k of Object.keys(item)) if (!(k in sent)) delete item[k];
  }

  /* Send one outbox item: its missing photos first, then the submission. */
  async function sendItem(item) {
    for (const pk of item.photos || []) {
      const rec = await dbGet("photos", pk);
      if (!rec) {
        await itemError(item, [{ field: "photos", message_th: t("ไม่พบรูปในเครื่อง ลบรูปแล้วบันทึกใหม่"), message_en: "" }]);
        return "error";
      }
      if (rec.stored) continue;
      const form = new FormData();
      form.append("key", pk);
      form.append("household", item.household);
      form.append("file", rec.blob, pk + ".jpg");
      const r = await api("POST", "/fieldwork/photos", { form, timeout: 120000 });
      if (r.status === 200 || r.status === 201) {
        rec.stored = true;
        await dbPut("photos", rec); // an interrupted sync resumes with the missing photos only
        continue;
      }
      await itemError(item, errorsOf(r.data));
      return "error";
    }
    item.attempted = true; // from here on, the server may have it even if the answer is lost
    await dbPut("outbox", item);
    const r = await api("POST", "/fieldwork/submissions", { json: item.body, timeout: 60000 });
    if ((r.status === 200 || r.status === 201) && r.data && r.data.key === item.key) {
      await markSent(item, r.data);
      return "sent";
    }
    item.attempted = false; // a 4xx answer: the server did not store it
    await itemError(item, errorsOf(r.data));
    return "error";
  }

  async function doSync() {
    if (!online()) { say(t("ออฟไลน์อยู่ จะส่งเมื่อมีสัญญาณ"), "warn"); return; }
    S.syncing = true;
    renderStatus();
    let sent = 0, errors = 0, conflicts = 0, stopped = null;
    try {
      if (!(await checkIdentity())) return;
      for (const item of unsent()) {
        const result = await sendItem(item);
        if (result === "sent") {
          sent += 1;
          if (item.conflicts.length) conflicts += 1;
        } else errors += 1;
        refresh();
      }
    } catch (e) {
      stopped = e;
    } finally {
      S.syncing = false;
    }
    await loadAll();
    if (stopped) {
      say(problemText(stopped), "error");
      refresh();
      return;
    }
    const parts = [];
    if (sent) parts.push(t("ส่งสำเร็จ {n} รายการ", { n: sent }));
    if (conflicts) parts.push(t("มีข้อมูลขัดแย้ง รอเจ้าหน้าที่ตรวจ") + " (" + conflicts + ")");
    if (errors) parts.push(t("ต้องแก้ไข {n} รายการ", { n: errors }));
    await doDownload();
    if (parts.length) say(parts.join(" · "), errors || conflicts ? "warn" : "");
  }
  /* Sync; asked again while it runs (a verification saved meanwhile), it goes round once more. */
  let syncAgain = false;
  function sync() {
    if (running.sync) { syncAgain = true; return running.sync; }
    return exclusive("sync", async () => {
      do {
        syncAgain = false;
        await doSync();
      } while (syncAgain && online() && !S.authNeeded && !S.blocked);
    });
  }

  // ------------------------------------------------------------------ header, status, list
  function renderBar() {
    const bar = document.getElementById("bar");
    bar.replaceChildren(
      h("span", { class: "brand" }, "KHM"),
      h("span", { class: "title" }, t("ตรวจสอบครัวเรือน")),
      h("span", { class: "net", id: "net", role: "status" }),
      h("span", { class: "who", id: "who" }, CFG.name),
      h("button", { type: "button", class: "small", id: "logout", onclick: logout }, t("ออกจากระบบ")),
    );
    updateNet();
  }

  function updateNet() {
    const el = document.getElementById("net");
    if (!el) return;
    el.className = "net " + (online() ? "online" : "offline");
    el.textContent = online() ? t("ออนไลน์") : t("ออฟไลน์");
  }

  function statusPanel() {
    const n = unsent().length;
    const busy = S.syncing || S.downloading;
    const box = h("section", { class: "status", id: "status", "aria-label": t("สถานะการส่งข้อมูล") },
      h("p", { class: "muted", id: "last-download" },
        S.meta.downloaded_at ? t("ดาวน์โหลดล่าสุด {t}", { t: fmtTime(S.meta.downloaded_at, true) }) : t("ยังไม่ได้ดาวน์โหลดงาน")),
      h("button", { type: "button", class: "primary big", id: "download", disabled: busy, onclick: () => download() },
        S.downloading ? t("กำลังดาวน์โหลด…") : t("ดาวน์โหลดงาน")),
      h("p", { class: "waiting", id: "waiting" }, t("รอส่ง {n} รายการ", { n })),
      h("button", { type: "button", class: "big", id: "sync", disabled: busy || n === 0, onclick: () => sync() },
        S.syncing ? t("กำลังส่ง…") : t("ส่งข้อมูล")),
      h("div", { id: "msg", "aria-live": "polite" },
        S.message ? h("p", { class: "msg " + S.message.kind }, S.message.text) : null,
        S.authNeeded ? h("p", { class: "msg error" }, t("กรุณาเข้าสู่ระบบใหม่"), " ",
          h("a", { href: CFG.login + "?next=" + encodeURIComponent(CFG.scope) }, t("เข้าสู่ระบบ"))) : null),
    );
    return box;
  }
  function renderStatus() {
    updateNet();
    const old = document.getElementById("status");
    if (old) old.replaceWith(statusPanel());
  }

  function errorList(errors) {
    return h("ul", null, (errors || []).map((e) => h("li", null,
      (e.field ? fieldLabel(e.field) + ": " : "") + (CFG.lang === "en" ? e.message_en || e.message_th : e.message_th || e.message_en))));
  }
  function fieldLabel(field) {
    const names = {
      outcome: "ผลการตรวจสอบ", verified_on: "วันที่ตรวจสอบ", gps: "พิกัด GPS", moved_to: "ย้ายไปที่ไหน",
      duplicate_of: "ซ้ำกับครัวเรือนรหัส", consent: "ความยินยอม", photos: "รูปถ่าย", file: "รูปถ่าย",
      household: "ครัวเรือน", campaign: "รอบการตรวจสอบ", changes: "สมาชิกในครัวเรือน", "changes.household": "ที่อยู่",
    };
    if (names[field]) return t(names[field]);
    const m = /^answers\.capitals\.([\w-]+)/.exec(field);
    if (m) { const it = itemsByCode()[m[1]]; return it ? L(it.label) : m[1]; }
    if (field.startsWith("changes.new_members")) return t("เพิ่มสมาชิกใหม่");
    if (field.startsWith("changes.members")) return t("สมาชิกในครัวเรือน");
    return field;
  }
  const CONFLICT_FIELDS = { house_no: "บ้านเลขที่", address_extra: "รายละเอียดที่อยู่", first_name: "ชื่อ", last_name: "นามสกุล", relation: "ความสัมพันธ์กับหัวหน้าครัวเรือน", status: "สถานะ" };

  function queueList() {
    // Items of households still in the list show there; these are the others (assignment ended).
    const items = S.outbox.filter((i) => !S.households.has(i.household));
    if (!items.length) return null;
    const waiting = items.filter((i) => i.state !== "sent");
    const sent = items.filter((i) => i.state === "sent");
    const row = (i) => h("li", { dataset: { code: i.household, key: i.key } },
      h("div", { class: "row" },
        h("strong", null, t("บ้านเลขที่ {n}", { n: i.summary.house_no || "-" })),
        h("span", { class: "state " + i.state }, t(STATE_LABEL[i.state]))),
      h("div", { class: "muted" }, [i.summary.village, outcomeLabel(i.summary.outcome)].filter(Boolean).join(" · ")),
      i.ref ? h("div", null, t("เลขอ้างอิง {r}", { r: i.ref }), i.level ? " · " + levelLabel(i.level) : "") : null,
      i.conflicts && i.conflicts.length ? h("p", { class: "msg warn conflict" }, t("มีข้อมูลขัดแย้ง รอเจ้าหน้าที่ตรวจ"), ": ",
        i.conflicts.map((c) => t(CONFLICT_FIELDS[c.field] || c.field)).join(", ")) : null,
      i.state === "error" ? h("div", { class: "alert" }, errorList(i.errors)) : null,
      i.state !== "sent" && S.households.has(i.household) ? h("a", { class: "button", href: "#/h/" + encodeURIComponent(i.household) }, t("แก้ไขรายการ")) : null);
    return h("section", { id: "queue" },
      waiting.length ? [h("h2", null, t("รายการที่รอส่ง")), h("ul", { class: "queue-list" }, waiting.map(row))] : null,
      sent.length ? [h("h2", null, t("ส่งแล้ว {n} รายการ", { n: sent.length })), h("ul", { class: "sent-list" }, sent.map(row))] : null);
  }

  function householdList() {
    const wrap = h("div", { id: "households" });
    if (!S.households.size) {
      wrap.append(h("p", { class: "empty" }, S.meta.downloaded_at ? t("ไม่มีครัวเรือนที่ได้รับมอบหมาย") : t("ยังไม่ได้ดาวน์โหลดงาน")));
      return wrap;
    }
    const groups = new Map();
    for (const hh of S.households.values()) {
      if (!groups.has(hh.area_code)) groups.set(hh.area_code, []);
      groups.get(hh.area_code).push(hh);
    }
    const byNo = (a, b) => norm(a.house_no).localeCompare(norm(b.house_no), "th", { numeric: true });
    for (const code of Array.from(groups.keys()).sort()) {
      const list = groups.get(code).sort(byNo);
      const ul = h("ul", { class: "households" });
      for (const hh of list) {
        const state = hhState(hh.code);
        const item = itemOf(hh.code);
        ul.append(h("li", { dataset: { code: hh.code, search: (norm(hh.house_no) + " " + headOf(hh)).toLowerCase() } },
          h("a", { class: "hh", href: "#/h/" + encodeURIComponent(hh.code) },
            h("span", { class: "no" }, hh.house_no || "-"),
            h("span", { class: "head" }, headOf(hh) || t("ไม่ทราบชื่อหัวหน้าครัวเรือน")),
            h("span", { class: "state " + state }, t(STATE_LABEL[state]))),
          item && item.state === "sent" && item.conflicts && item.conflicts.length
            ? h("p", { class: "msg warn conflict" }, t("มีข้อมูลขัดแย้ง รอเจ้าหน้าที่ตรวจ")) : null,
          item && item.state === "error" ? h("div", { class: "alert" }, errorList(item.errors)) : null));
      }
      wrap.append(h("section", { class: "village" }, h("h2", null, villageLabel(list[0]), h("span", { class: "count" }, "(" + list.length + ")")), ul));
    }
    applyFilter(wrap);
    return wrap;
  }
  function applyFilter(root) {
    const q = S.filter.trim().toLowerCase();
    for (const li of $$("li[data-search]", root)) li.hidden = !!q && !li.dataset.search.includes(q);
  }

  function renderList() {
    F = null;
    const filter = h("label", { class: "filter" }, t("ค้นหาบ้านเลขที่หรือชื่อ"),
      h("input", { type: "search", id: "filter", value: S.filter, autocomplete: "off",
        oninput: (e) => { S.filter = e.target.value; applyFilter(document.getElementById("households")); } }));
    main.replaceChildren(statusPanel(), queueList() || h("div", { id: "queue" }), S.households.size > 8 ? filter : "", householdList());
    document.title = "KHM · " + t("ตรวจสอบครัวเรือน");
  }
  function refresh() {
    if (F) return renderStatus();
    if (S.blocked) return render();
    const status = document.getElementById("status");
    if (!status) return;
    renderStatus();
    const queue = queueList() || h("div", { id: "queue" });
    document.getElementById("queue").replaceWith(queue);
    document.getElementById("households").replaceWith(householdList());
  }

  function renderBlocked() {
    F = null;
    const text = online()
      ? t("เครื่องนี้มีข้อมูลของผู้ใช้ {u} ที่ยังไม่ได้ส่ง ให้ {u} เข้าสู่ระบบเพื่อส่งข้อมูลก่อน", { u: S.blocked })
      : t("ข้อมูลในเครื่องเป็นของผู้ใช้ {u} เชื่อมต่ออินเทอร์เน็ตเพื่อตรวจสอบ", { u: S.blocked });
    main.replaceChildren(h("p", { class: "alert", role: "alert" }, text));
  }

  // ------------------------------------------------------------------ the form
  let F = null; // the open form: {code, hh, draft, saved (a stored draft exists), locked, item}
  let saveTimer = null;
  let pending = 0;
  let saves = 0;
  const objectUrls = [];

  function newDraft(hh) {
    const members = (hh.members || []).map((m) => clone(m));
    const d = {
      household: hh.code, campaign: hh.campaign, created: new Date().toISOString(), updated: null,
      base: { house_no: hh.house_no || "", address_extra: hh.address_extra || "", members },
      outcome: "", moved_to: "", duplicate_of: "", notes: "", consent: false,
      house_no: hh.house_no || "", address_extra: hh.address_extra || "",
      members: {}, new_members: [], capitals: {}, welfare_cards: [], gps: null, photos: [],
    };
    for (const m of members) d.members[m.ref] = { first_name: m.first_name || "", last_name: m.last_name || "", relation: m.relation || "", status: m.status || "member" };
    return d;
  }

  function setPending(delta) {
    pending = Math.max(0, pending + delta);
    const el = document.getElementById("draft-state");
    if (!el) return;
    el.dataset.pending = String(pending);
    el.dataset.saves = String(saves);
    if (pending) el.textContent = t("กำลังบันทึกร่าง…");
  }
  function changed() {
    if (!F || F.locked) return;
    clearTimeout(saveTimer);
    if (!F.dirty) { F.dirty = true; setPending(1); }
    saveTimer = setTimeout(() => saveDraft(), SAVE_DELAY);
  }
  async function saveDraft() {
    clearTimeout(saveTimer);
    if (!F || F.locked) return;
    const form = F;
    collect(form);
    const wasDirty = form.dirty;
    form.dirty = false;
    form.draft.updated = new Date().toISOString();
    const copy = clone(form.draft);
    try {
      await dbPut("drafts", copy);
      S.drafts.set(copy.household, copy);
      form.saved = true;
      saves += 1;
      const el = document.getElementById("draft-state");
      if (el && F === form) el.textContent = t("บันทึกร่างแล้ว {t}", { t: fmtTime(form.draft.updated) });
    } finally {
      if (wasDirty) setPending(-1);
      else setPending(0);
    }
  }

  /* Read the form into F.draft (everything but the GPS point and photos, kept in F.draft directly). */
  function collect(form) {
    const root = document.getElementById("hh-form");
    if (!root || !form) return;
    const d = form.draft;
    const val = (name) => { const e = root.elements.namedItem(name); return e && "value" in e ? e.value : ""; };
    const radio = (name) => { const e = $$(`input[type=radio][name="${name}"]`, root).find((x) => x.checked); return e ? e.value : ""; };
    d.outcome = radio("outcome");
    d.moved_to = val("moved_to");
    d.duplicate_of = val("duplicate_of").trim();
    d.notes = val("notes");
    d.consent = !!(root.elements.namedItem("consent") || {}).checked;
    d.house_no = val("house_no");
    d.address_extra = val("address_extra");
    const items = itemsByCode();
    const caps = {};
    for (const [code, it] of Object.entries(items)) {
      const name = "q." + code;
      if (it.type === "choice") { const v = radio(name); if (v) caps[code] = v; }
      else if (it.type === "multi") {
        const vs = $$(`input[type=checkbox][name="${name}"]`, root).filter((x) => x.checked).map((x) => x.value);
        if (vs.length) caps[code] = vs;
      } else if (it.type === "number") {
        const raw = val(name).trim();
        if (raw !== "" && Number.isFinite(Number(raw))) caps[code] = Number(raw);
      }
    }
    // Answers of items the current questionnaire no longer has are dropped.
    d.capitals = caps;
    d.welfare_cards = $$("input[name=welfare]", root).filter((x) => x.checked).map((x) => x.value);
    for (const m of d.base.members) {
      d.members[m.ref] = {
        first_name: val(`m.${m.ref}.first_name`), last_name: val(`m.${m.ref}.last_name`),
        relation: val(`m.${m.ref}.relation`), status: radio(`m.${m.ref}.status`) || "member",
      };
    }
    d.new_members = $$(".new-member", root).map((box) => {
      const i = box.dataset.i;
      return {
        first_name: val(`n.${i}.first_name`), last_name: val(`n.${i}.last_name`), sex: radio(`n.${i}.sex`),
        birth_date: val(`n.${i}.birth_date`), relation: val(`n.${i}.relation`) || "other",
      };
    });
  }

  function validate(d) {
    const problems = [];
    if (!d.outcome) problems.push(["outcome-o", t("เลือกผลการตรวจสอบ")]);
    if (d.outcome === "moved" && !norm(d.moved_to)) problems.push(["moved_to", t("ระบุว่าย้ายไปที่ไหน")]);
    if (d.outcome === "duplicate" && (!norm(d.duplicate_of) || norm(d.duplicate_of) === d.household)) problems.push(["duplicate_of", t("ระบุรหัสครัวเรือนที่ซ้ำ")]);
    if (norm(d.house_no) !== norm(d.base.house_no) && !HOUSE_NO_RE.test(norm(d.house_no))) problems.push(["house_no", t("บ้านเลขที่ใช้ได้เฉพาะตัวเลข / และ - เช่น 45/1")]);
    d.new_members.forEach((n, i) => {
      if (!norm(n.first_name) || !norm(n.last_name) || !n.sex) problems.push([`n.${i}.first_name`, t("สมาชิกใหม่ต้องมีชื่อ นามสกุล และเพศ")]);
    });
    if (d.gps && !(d.gps.lat >= 5 && d.gps.lat <= 21 && d.gps.lon >= 97 && d.gps.lon <= 106)) problems.push(["gps-btn", t("พิกัดอยู่นอกประเทศไทย ลองบันทึกใหม่")]);
    if (!d.consent) problems.push(["consent", t("ต้องแจ้งวัตถุประสงค์และได้รับความยินยอมก่อนบันทึก")]);
    return problems;
  }

  /* The submission for the API, from a draft: only what changed, with the values as downloaded. */
  function buildSubmission(d, key) {
    const base = { household: { house_no: d.base.house_no, address_extra: d.base.address_extra }, members: {} };
    const changes = { household: {}, members: {}, new_members: [] };
    for (const f of ["house_no", "address_extra"]) if (norm(d[f]) !== norm(d.base[f])) changes.household[f] = norm(d[f]);
    for (const m of d.base.members) {
      const cur = d.members[m.ref];
      if (!cur) continue;
      const diff = {};
      for (const f of ["first_name", "last_name", "relation", "status"]) {
        const was = f === "status" ? m.status || "member" : m[f];
        if (norm(cur[f]) !== norm(was)) diff[f] = norm(cur[f]);
      }
      if (Object.keys(diff).length) {
        changes.members[m.ref] = diff;
        base.members[m.ref] = { first_name: m.first_name, last_name: m.last_name, relation: m.relation, status: m.status };
      }
    }
    for (const n of d.new_members) {
      changes.new_members.push({ first_name: norm(n.first_name), last_name: norm(n.last_name), sex: n.sex, birth_date: n.birth_date || "", relation: n.relation || "other" });
    }
    let answers = null;
    if (ANSWERED_OUTCOMES.includes(d.outcome)) {
      const staying = new Set(d.base.members.filter((m) => (d.members[m.ref] || {}).status === "member").map((m) => m.ref));
      const cards = d.welfare_cards.filter((r) => staying.has(r));
      if (Object.keys(d.capitals).length || cards.length) answers = { capitals: clone(d.capitals), welfare_cards: cards };
    }
    return {
      key, household: d.household, campaign: d.campaign || "", device: S.meta.device || "", outcome: d.outcome,
      verified_on: today(), notes: norm(d.notes), moved_to: d.outcome === "moved" ? norm(d.moved_to) : "",
      duplicate_of: d.outcome === "duplicate" ? norm(d.duplicate_of) : "", consent: !!d.consent,
      gps: d.gps ? { lat: d.gps.lat, lon: d.gps.lon, accuracy: d.gps.accuracy } : null,
      photos: d.photos.slice(), base, changes, answers,
    };
  }

  async function saveToOutbox(ev) {
    if (ev) ev.preventDefault();
    if (!F || F.locked) return;
    clearTimeout(saveTimer);
    collect(F);
    const d = F.draft;
    const problems = validate(d);
    const box = document.getElementById("form-errors");
    if (problems.length) {
      box.replaceChildren(h("p", null, t("มีปัญหาที่ต้องแก้ก่อนบันทึก")),
        h("ul", null, problems.map(([id, text]) => h("li", null, h("a", { href: "#" + id, onclick: (e) => { e.preventDefault(); const target = document.getElementById(id); if (target) target.focus(); } }, text)))));
      box.hidden = false;
      box.focus();
      return;
    }
    box.hidden = true;
    const key = newKey();
    const hh = F.hh;
    const item = {
      key, seq: Date.now(), user: CFG.user, household: d.household, state: "queued", attempted: false,
      created: new Date().toISOString(), errors: null,
      summary: { house_no: norm(d.house_no) || hh.house_no, village: villageLabel(hh), head: headOf(hh), outcome: d.outcome },
      draft: clone(d), body: buildSubmission(d, key), photos: d.photos.slice(),
    };
    await tx(["outbox", "drafts"], "readwrite", (s) => {
      s.outbox.put(item);
      s.drafts.delete(d.household);
    });
    S.outbox.push(item);
    S.drafts.delete(d.household);
    F.dirty = false;
    if (pending) setPending(-pending);
    F = null;
    S.message = { text: t("บันทึกแล้ว รอส่ง"), kind: "" };
    location.hash = "#/";
    if (online()) sync();
  }

  /* An unsent item back to a draft (a 422 to correct, or a change of mind before sending). */
  async function reopen(item) {
    if (item.attempted) {
      if (!online()) { say(t("ต้องออนไลน์เพื่อตรวจสอบว่ารายการนี้ถึงเซิร์ฟเวอร์แล้วหรือยัง"), "warn"); return; }
      try {
        const r = await api("GET", "/fieldwork/submissions/" + encodeURIComponent(item.key));
        if (r.status === 200 && r.data) { await markSent(item, r.data); renderForm(item.household); return; }
      } catch (e) { say(problemText(e), "error"); return; }
    }
    const d = item.draft;
    await tx(["outbox", "drafts"], "readwrite", (s) => {
      s.outbox.delete(item.key);
      s.drafts.put(d);
    });
    S.outbox = S.outbox.filter((i) => i.key !== item.key);
    S.drafts.set(d.household, d);
    renderForm(item.household);
  }

  async function discardDraft() {
    if (!F || !F.saved || !confirm(t("ลบร่างนี้หรือไม่?"))) return;
    const code = F.code;
    const photos = F.draft.photos.slice();
    clearTimeout(saveTimer);
    F.dirty = false;
    await tx(["drafts", "photos"], "readwrite", (s) => {
      s.drafts.delete(code);
      for (const k of photos) s.photos.delete(k);
    });
    S.drafts.delete(code);
    if (pending) setPending(-pending);
    renderForm(code);
  }

  function choice(type, name, value, label, checked, extra) {
    return h("label", { class: "choice" }, h("input", Object.assign({ type, name, value, checked: !!checked }, extra || {})), h("span", null, label));
  }

  function consentBox(d) {
    const box = choice("checkbox", "consent", "1", t("แจ้งวัตถุประสงค์และได้รับความยินยอมแล้ว"), d.consent, { id: "consent", required: true });
    box.classList.add("consent");
    return box;
  }

  function outcomeSection(d) {
    const outcomes = (S.meta.bundle && S.meta.bundle.outcomes) || Object.keys(OUTCOMES_TH).map((value) => ({ value }));
    const others = Array.from(S.households.values()).filter((x) => x.code !== d.household);
    return h("fieldset", { class: "outcomes", id: "outcome-o", tabindex: "-1" },
      h("legend", null, t("ผลการตรวจสอบ")),
      outcomes.map((o) => choice("radio", "outcome", o.value, outcomeLabel(o.value), d.outcome === o.value, { id: "o-" + o.value })),
      h("div", { id: "moved-box", hidden: d.outcome !== "moved" },
        h("label", null, t("ย้ายไปที่ไหน"), h("input", { type: "text", id: "moved_to", name: "moved_to", value: d.moved_to, maxlength: "200", autocomplete: "off" }))),
      h("div", { id: "duplicate-box", hidden: d.outcome !== "duplicate" },
        h("label", null, t("ซ้ำกับครัวเรือนรหัส"),
          h("input", { type: "text", id: "duplicate_of", name: "duplicate_of", value: d.duplicate_of, list: "hh-codes", autocomplete: "off", autocapitalize: "characters" })),
        h("datalist", { id: "hh-codes" }, others.map((x) => h("option", { value: x.code }, t("บ้านเลขที่ {n}", { n: x.house_no }) + " " + headOf(x))))),
    );
  }

  function questionSection(d) {
    const q = questionnaire();
    if (!q || !q.definition) return null;
    const caps = q.definition.capitals || [];
    const sec = h("section", { id: "questionnaire", hidden: !ANSWERED_OUTCOMES.includes(d.outcome) },
      h("h2", null, L(q.definition.title) || t("แบบสอบถามทุน 5 ด้าน")));
    for (const cap of caps) {
      const det = h("details", { dataset: { capital: cap.code } }, h("summary", null, L(cap.label), h("span", { class: "count", dataset: { count: cap.code } }, "")));
      for (const it of cap.items) {
        const name = "q." + it.code;
        const value = d.capitals[it.code];
        const fs = it.type === "number"
          ? h("div", { class: "num", dataset: { item: it.code }, id: "q-" + it.code })
          : h("fieldset", { dataset: { item: it.code }, id: "q-" + it.code }, h("legend", null, L(it.label)));
        if (it.type === "choice") {
          for (const o of it.options) fs.append(choice("radio", name, o.value, L(o.label), value === o.value));
          fs.append(h("button", { type: "button", class: "small", hidden: value === undefined, dataset: { clear: name } }, t("ล้างคำตอบ")));
        } else if (it.type === "multi") {
          const chosen = Array.isArray(value) ? value : [];
          for (const o of it.options) fs.append(choice("checkbox", name, o.value, L(o.label), chosen.includes(o.value), o.none ? { "data-none": "1" } : null));
        } else if (it.type === "number") {
          fs.append(h("label", null, L(it.label), h("input", { type: "number", name, id: "n-" + it.code, inputmode: "numeric", min: "0", step: "any", value: value === undefined ? "" : String(value) })));
        }
        det.append(fs);
      }
      sec.append(det);
    }
    const members = d.base.members;
    if (members.length) {
      sec.append(h("fieldset", { id: "welfare" }, h("legend", null, t("บัตรสวัสดิการแห่งรัฐ")),
        h("p", { class: "hint" }, t("ติ๊กสมาชิกที่ถือบัตรสวัสดิการแห่งรัฐ")),
        members.map((m) => choice("checkbox", "welfare", m.ref, [m.title, m.first_name, m.last_name].filter(Boolean).join(" "), d.welfare_cards.includes(m.ref), { id: "w-" + m.ref }))));
    }
    return sec;
  }
  function updateCounts() {
    const q = questionnaire();
    if (!q || !F) return;
    collect(F);
    for (const cap of q.definition.capitals || []) {
      const el = $(`[data-count="${cap.code}"]`);
      if (!el) continue;
      const a = cap.items.filter((it) => F.draft.capitals[it.code] !== undefined).length;
      el.textContent = " " + t("ตอบแล้ว {a}/{n}", { a, n: cap.items.length });
    }
  }

  function memberSection(d, hh) {
    const sec = h("section", { id: "members" }, h("h2", null, t("สมาชิกในครัวเรือน")));
    for (const m of d.base.members) {
      const cur = d.members[m.ref] || {};
      const name = [m.title, m.first_name, m.last_name].filter(Boolean).join(" ");
      const now = (hh.members || []).find((x) => x.ref === m.ref);
      const note = now && (norm(now.first_name) !== norm(m.first_name) || norm(now.last_name) !== norm(m.last_name))
        ? h("p", { class: "changed" }, t("ทะเบียนเปลี่ยนเป็น “{v}” หลังเริ่มร่าง", { v: [now.first_name, now.last_name].join(" ") })) : null;
      const box = h("div", { class: "member" + (cur.status && cur.status !== "member" ? " gone" : ""), dataset: { ref: m.ref } },
        h("div", { class: "name" }, name),
        h("div", { class: "muted" }, [relationLabel(m.relation), m.age !== null && m.age !== undefined ? t("อายุ {n} ปี", { n: m.age }) : ""].filter(Boolean).join(" · ")),
        note,
        h("fieldset", null, h("legend", null, h("span", { class: "vh" }, name + ": "), t("สถานะ")),
          h("div", { class: "seg" },
            choice("radio", `m.${m.ref}.status`, "member", t("ยังอยู่"), (cur.status || "member") === "member"),
            choice("radio", `m.${m.ref}.status`, "moved_out", t("ย้ายออก"), cur.status === "moved_out"),
            choice("radio", `m.${m.ref}.status`, "deceased", t("เสียชีวิต"), cur.status === "deceased"))),
        h("details", null, h("summary", null, t("แก้ไขชื่อ")),
          h("label", null, t("ชื่อ"), h("input", { type: "text", name: `m.${m.ref}.first_name`, value: cur.first_name || "", autocomplete: "off" })),
          h("label", null, t("นามสกุล"), h("input", { type: "text", name: `m.${m.ref}.last_name`, value: cur.last_name || "", autocomplete: "off" })),
          h("label", null, t("ความสัมพันธ์กับหัวหน้าครัวเรือน"), relationSelect(`m.${m.ref}.relation`, cur.relation || m.relation))));
      sec.append(box);
    }
    sec.append(h("div", { id: "new-members" }, newMemberBoxes(d)),
      h("button", { type: "button", id: "add-member", class: "big", onclick: addMember }, "+ " + t("เพิ่มสมาชิกใหม่")));
    return sec;
  }
  function relationSelect(name, value) {
    return h("select", { name }, RELATIONS.map(([v]) => { const o = h("option", { value: v }, relationLabel(v)); if (v === value) o.selected = true; return o; }));
  }
  function newMemberBoxes(d) {
    return d.new_members.map((n, i) => h("fieldset", { class: "new-member", dataset: { i: String(i) } },
      h("legend", null, t("สมาชิกใหม่ {n}", { n: i + 1 })),
      h("label", null, t("ชื่อ"), h("input", { type: "text", id: `n.${i}.first_name`, name: `n.${i}.first_name`, value: n.first_name, autocomplete: "off" })),
      h("label", null, t("นามสกุล"), h("input", { type: "text", name: `n.${i}.last_name`, value: n.last_name, autocomplete: "off" })),
      h("fieldset", null, h("legend", null, t("เพศ")), h("div", { class: "seg" },
        choice("radio", `n.${i}.sex`, "M", t("ชาย"), n.sex === "M"), choice("radio", `n.${i}.sex`, "F", t("หญิง"), n.sex === "F"))),
      h("label", null, t("วันเกิด (ถ้าทราบ)"), h("input", { type: "date", name: `n.${i}.birth_date`, value: n.birth_date || "", max: today() })),
      h("label", null, t("ความสัมพันธ์กับหัวหน้าครัวเรือน"), relationSelect(`n.${i}.relation`, n.relation || "child")),
      h("button", { type: "button", class: "small danger", dataset: { remove: String(i) } }, t("ลบสมาชิกใหม่นี้"))));
  }
  function addMember() {
    collect(F);
    F.draft.new_members.push({ first_name: "", last_name: "", sex: "", birth_date: "", relation: "child" });
    document.getElementById("new-members").replaceChildren(...newMemberBoxes(F.draft));
    const first = document.getElementById(`n.${F.draft.new_members.length - 1}.first_name`);
    if (first) first.focus();
    changed();
  }
  function removeMember(i) {
    collect(F);
    F.draft.new_members.splice(i, 1);
    document.getElementById("new-members").replaceChildren(...newMemberBoxes(F.draft));
    document.getElementById("add-member").focus();
    changed();
  }

  function addressSection(d, hh) {
    const note = (field) => norm(hh[field]) !== norm(d.base[field])
      ? h("p", { class: "changed" }, t("ทะเบียนเปลี่ยนเป็น “{v}” หลังเริ่มร่าง", { v: hh[field] })) : null;
    return h("fieldset", { id: "address" }, h("legend", null, t("ที่อยู่")),
      h("label", null, t("บ้านเลขที่"), h("input", { type: "text", id: "house_no", name: "house_no", value: d.house_no, inputmode: "text", autocomplete: "off", maxlength: "20" })),
      note("house_no"),
      h("label", null, t("รายละเอียดที่อยู่"), h("input", { type: "text", id: "address_extra", name: "address_extra", value: d.address_extra, autocomplete: "off", maxlength: "200" })),
      note("address_extra"));
  }

  function gpsText(g) {
    if (!g) return t("ยังไม่ได้บันทึกพิกัด");
    const acc = g.accuracy === null || g.accuracy === undefined ? "" : ` ± ${Math.round(g.accuracy)} ${CFG.lang === "en" ? "m" : "ม."}`;
    return `${g.lat.toFixed(6)}, ${g.lon.toFixed(6)}${acc}`;
  }
  function gpsSection(d) {
    return h("fieldset", { id: "gps" }, h("legend", null, t("พิกัด GPS")),
      h("p", { class: "gps-out", id: "gps-out", role: "status" }, gpsText(d.gps)),
      h("p", { id: "gps-warn", class: "msg warn", hidden: !(d.gps && d.gps.accuracy > 100) }, t("ความแม่นยำต่ำ ลองอีกครั้งในที่โล่ง")),
      h("div", { class: "row" },
        h("button", { type: "button", id: "gps-btn", class: "primary", onclick: takeGps }, t("บันทึกพิกัด GPS")),
        h("button", { type: "button", id: "gps-clear", hidden: !d.gps, onclick: () => { F.draft.gps = null; showGps(); changed(); } }, t("ล้างพิกัด"))));
  }
  function showGps() {
    const g = F.draft.gps;
    document.getElementById("gps-out").textContent = gpsText(g);
    document.getElementById("gps-warn").hidden = !(g && g.accuracy > 100);
    document.getElementById("gps-clear").hidden = !g;
  }
  function takeGps() {
    const out = document.getElementById("gps-out");
    if (!navigator.geolocation) { out.textContent = t("หาพิกัดไม่ได้: {e}", { e: "-" }); return; }
    const form = F;
    out.textContent = t("กำลังหาพิกัด…");
    setPending(1);
    navigator.geolocation.getCurrentPosition((pos) => {
      setPending(-1);
      if (F !== form) return;
      const round = (x) => Math.round(x * 1e6) / 1e6;
      form.draft.gps = { lat: round(pos.coords.latitude), lon: round(pos.coords.longitude), accuracy: pos.coords.accuracy, at: new Date(pos.timestamp || Date.now()).toISOString() };
      showGps();
      changed();
    }, (err) => {
      setPending(-1);
      if (F !== form) return;
      out.textContent = t("หาพิกัดไม่ได้: {e}", { e: err.message || err.code });
    }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
  }

  // Photos: resized in the browser (≤ 1280 px long side, JPEG 0.7), kept as Blobs in IndexedDB.
  async function resize(file) {
    let src;
    try {
      src = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (e) {
      src = await new Promise((resolve, reject) => {
        const img = new Image();
        const url = URL.createObjectURL(file);
        img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
        img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("image")); };
        img.src = url;
      });
    }
    const w0 = src.width || src.naturalWidth, h0 = src.height || src.naturalHeight;
    const scale = Math.min(1, PHOTO_EDGE / Math.max(w0, h0));
    const w = Math.max(1, Math.round(w0 * scale)), hgt = Math.max(1, Math.round(h0 * scale));
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = hgt;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, hgt);
    ctx.drawImage(src, 0, 0, w, hgt);
    if (src.close) src.close();
    const blob = await new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("jpeg"))), "image/jpeg", PHOTO_QUALITY));
    return { blob, width: w, height: hgt };
  }
  async function addPhotos(ev) {
    const input = ev.target;
    const files = Array.from(input.files || []);
    const form = F;
    const out = document.getElementById("photo-msg");
    out.textContent = "";
    for (const file of files) {
      if (form.draft.photos.length >= MAX_PHOTOS) { out.textContent = t("รูปครบ {n} รูปแล้ว", { n: MAX_PHOTOS }); break; }
      setPending(1);
      try {
        const { blob, width, height } = await resize(file);
        const key = newKey();
        await dbPut("photos", { key, household: form.code, blob, width, height, bytes: blob.size, created: new Date().toISOString(), stored: false });
        form.draft.photos.push(key);
        if (F === form) { await renderThumbs(); changed(); } else { await dbPut("drafts", clone(form.draft)); }
      } catch (e) {
        out.textContent = t("อ่านรูปไม่ได้");
      } finally {
        setPending(-1);
      }
    }
    input.value = "";
  }
  async function removePhoto(key) {
    const form = F;
    form.draft.photos = form.draft.photos.filter((k) => k !== key);
    await dbDel("photos", key);
    await renderThumbs();
    changed();
    const input = document.getElementById("photo-input");
    if (input) input.focus();
  }
  async function renderThumbs() {
    const box = document.getElementById("thumbs");
    if (!box || !F) return;
    while (objectUrls.length) URL.revokeObjectURL(objectUrls.pop());
    const figs = [];
    let n = 0;
    for (const key of F.draft.photos) {
      const rec = await dbGet("photos", key);
      n += 1;
      if (!rec || !rec.blob) continue;
      const url = URL.createObjectURL(rec.blob);
      objectUrls.push(url);
      figs.push(h("figure", { dataset: { key } },
        h("img", { src: url, alt: t("รูปที่ {n}", { n }) }),
        F.locked ? null : h("button", { type: "button", class: "small danger", "aria-label": t("ลบรูป") + " " + n, onclick: () => removePhoto(key) }, t("ลบรูป"))));
    }
    box.replaceChildren(...figs);
  }
  function photoSection() {
    return h("fieldset", { id: "photos" }, h("legend", null, t("รูปถ่าย")),
      h("label", { class: "button primary filepick" }, t("ถ่ายรูป / เลือกรูป"),
        h("input", { type: "file", id: "photo-input", accept: "image/*", capture: "environment", multiple: true, onchange: addPhotos })),
      h("p", { id: "photo-msg", class: "hint", "aria-live": "polite" }),
      h("div", { class: "photos", id: "thumbs" }));
  }

  function banner(item) {
    if (!item) return null;
    if (item.state === "sent") {
      return h("div", { class: "msg", id: "banner" }, t("รายการนี้ส่งแล้ว"), item.ref ? " · " + t("เลขอ้างอิง {r}", { r: item.ref }) : "",
        item.conflicts && item.conflicts.length ? h("p", { class: "msg warn conflict" }, t("มีข้อมูลขัดแย้ง รอเจ้าหน้าที่ตรวจ")) : null);
    }
    return h("div", { class: item.state === "error" ? "alert" : "msg", id: "banner", role: item.state === "error" ? "alert" : "status" },
      h("p", null, item.state === "error" ? t("เซิร์ฟเวอร์ไม่รับรายการนี้ แก้ไขแล้วบันทึกใหม่") : t("รายการนี้รอส่ง")),
      item.state === "error" ? errorList(item.errors) : null,
      h("button", { type: "button", id: "reopen", onclick: () => reopen(item) }, t("นำกลับมาแก้ไข")));
  }

  function renderForm(code) {
    const hh = S.households.get(code);
    if (!hh) {
      F = null;
      main.replaceChildren(h("p", null, h("a", { class: "button", href: "#/" }, t("← กลับไปรายการ"))), h("p", { class: "alert" }, t("ไม่พบครัวเรือนนี้ในเครื่อง")));
      return;
    }
    const item = itemOf(code);
    const pendingItem = item && item.state !== "sent" ? item : null;
    const sentItem = item && item.state === "sent" && !S.drafts.has(code) ? item : null;
    const stored = S.drafts.get(code);
    const draft = pendingItem ? clone(pendingItem.draft) : stored ? clone(stored) : newDraft(hh);
    F = { code, hh, draft, saved: !!stored, locked: !!(pendingItem || sentItem), dirty: false };
    pending = 0;
    const d = draft;
    const form = h("form", {
      id: "hh-form", novalidate: true, onsubmit: saveToOutbox,
      // Enter in a text box must not save the whole verification.
      onkeydown: (e) => { if (e.key === "Enter" && e.target.tagName === "INPUT") e.preventDefault(); },
    },
      h("fieldset", { class: "plain", disabled: F.locked, style: "border:0;padding:0;margin:0" },
        outcomeSection(d), questionSection(d), memberSection(d, hh), addressSection(d, hh), gpsSection(d), photoSection(),
        h("label", { id: "notes-box" }, t("หมายเหตุ"), h("textarea", { id: "notes", name: "notes", rows: "3", maxlength: "4000" }, d.notes)),
        h("fieldset", { id: "consent-box" }, h("legend", null, t("ความยินยอม")),
          consentBox(d)),
        h("div", { id: "form-errors", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
        h("div", { class: "actions" },
          h("p", { class: "saved", id: "draft-state", "aria-live": "polite", dataset: { pending: "0", saves: String(saves) } },
            stored && stored.updated ? t("บันทึกร่างแล้ว {t}", { t: fmtTime(stored.updated) }) : ""),
          h("div", { class: "row" },
            h("button", { type: "submit", id: "save", class: "primary big" }, t("บันทึก")),
            stored ? h("button", { type: "button", id: "discard", class: "danger", onclick: discardDraft }, t("ลบร่าง")) : null))));
    form.addEventListener("input", onFormInput);
    form.addEventListener("change", onFormInput);
    form.addEventListener("click", onFormClick);
    main.replaceChildren(
      h("p", null, h("a", { class: "button", href: "#/", id: "back" }, t("← กลับไปรายการ"))),
      h("div", { class: "form-head" },
        h("h1", null, h("span", { class: "no" }, t("บ้านเลขที่ {n}", { n: hh.house_no || "-" }))),
        h("p", null, h("strong", null, headOf(hh) || t("ไม่ทราบชื่อหัวหน้าครัวเรือน"))),
        h("p", { class: "muted" }, villageLabel(hh) + " · " + hh.code)),
      banner(pendingItem || sentItem) || "",
      form);
    document.title = "KHM · " + t("บ้านเลขที่ {n}", { n: hh.house_no || "-" });
    updateCounts();
    renderThumbs();
    main.focus();
    window.scrollTo(0, 0);
  }

  function onFormInput(ev) {
    const el = ev.target;
    if (!el || !el.name) return;
    if (ev.type === "change" && el.type === "checkbox" && el.name.startsWith("q.") && el.checked) {
      // An option marked "none" excludes the others, and the other way round.
      const group = $$(`input[type=checkbox][name="${el.name}"]`, document.getElementById("hh-form"));
      for (const other of group) if (other !== el && (el.dataset.none ? true : other.dataset.none)) other.checked = false;
    }
    if (el.name === "outcome") {
      $("#moved-box").hidden = el.value !== "moved";
      $("#duplicate-box").hidden = el.value !== "duplicate";
      const q = $("#questionnaire");
      if (q) q.hidden = !ANSWERED_OUTCOMES.includes(el.value);
    }
    if (/^m\.[^.]+\.status$/.test(el.name)) {
      const box = el.closest(".member");
      if (box) box.classList.toggle("gone", el.value !== "member");
    }
    if (el.name.startsWith("q.")) {
      const clear = el.type === "radio" && el.closest("fieldset").querySelector("[data-clear]");
      if (clear) clear.hidden = false;
      updateCounts();
    }
    if (el.type === "file") return; // photos save themselves
    changed();
  }
  function onFormClick(ev) {
    const btn = ev.target.closest("button");
    if (!btn) return;
    if (btn.dataset.clear) {
      for (const r of $$(`input[name="${btn.dataset.clear}"]`, document.getElementById("hh-form"))) r.checked = false;
      const fs = btn.closest("fieldset");
      btn.hidden = true;
      const first = fs && fs.querySelector("input");
      if (first) first.focus();
      updateCounts();
      changed();
    } else if (btn.dataset.remove !== undefined) {
      removeMember(Number(btn.dataset.remove));
    }
  }

  // ------------------------------------------------------------------ routing, start, log out
  async function leaveForm() {
    if (F && F.dirty) await saveDraft();
    while (objectUrls.length) URL.revokeObjectURL(objectUrls.pop());
  }
  function render() {
    if (S.blocked) return renderBlocked();
    const m = /^#\/h\/(.+)$/.exec(location.hash);
    if (m) renderForm(decodeURIComponent(m[1]));
    else renderList();
  }
  async function route() {
    await leaveForm();
    render();
  }

  async function logout() {
    const waiting = unsent().length;
    if (F && F.dirty) await saveDraft();
    if (waiting) {
      if (!confirm(t("ยังมีข้อมูลที่ยังไม่ได้ส่ง {n} รายการ ถ้าออกจากระบบ ข้อมูลนี้จะถูกลบจากเครื่อง ออกจากระบบหรือไม่?", { n: waiting }))) return;
    } else if (S.drafts.size) {
      if (!confirm(t("ยังมีร่างที่ยังไม่ได้บันทึก {n} รายการ ถ้าออกจากระบบ ร่างจะถูกลบ ออกจากระบบหรือไม่?", { n: S.drafts.size }))) return;
    }
    F = null;
    clearTimeout(saveTimer);
    // Let a running download or sync finish writing (a few seconds at most) before wiping.
    await Promise.race([chain, new Promise((resolve) => setTimeout(resolve, 3000))]);
    try { if (db) db.close(); } catch (e) { /* closed */ }
    db = null;
    await new Promise((resolve) => {
      const r = indexedDB.deleteDatabase(DB_NAME);
      r.onsuccess = r.onerror = r.onblocked = () => resolve();
    });
    if (window.caches) {
      for (const name of await caches.keys()) if (name.startsWith("khm-m-")) await caches.delete(name);
    }
    if (!online()) {
      main.replaceChildren(h("p", { class: "alert", role: "alert" }, t("ลบข้อมูลในเครื่องแล้ว เชื่อมต่ออินเทอร์เน็ตแล้วกดออกจากระบบอีกครั้ง")));
      return;
    }
    const form = h("form", { method: "post", action: CFG.logout },
      h("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrf() }),
      h("input", { type: "hidden", name: "next", value: CFG.login + "?next=" + encodeURIComponent(CFG.scope) }));
    document.body.append(form);
    form.submit();
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(CFG.sw, { scope: CFG.scope })
      .then(() => navigator.serviceWorker.ready)
      .then((reg) => { if (reg.active) reg.active.postMessage("precache"); })
      .catch(() => undefined);
  }

  async function start() {
    if (CFG.lang === "en") document.documentElement.lang = "en";
    renderBar();
    registerWorker();
    try {
      db = await openDB();
      await loadAll();
    } catch (e) {
      main.replaceChildren(h("p", { class: "alert", role: "alert" }, t("เบราว์เซอร์นี้เก็บข้อมูลในเครื่องไม่ได้ (IndexedDB) ใช้ Chrome รุ่นใหม่ และไม่ใช้โหมดไม่ระบุตัวตน")));
      return;
    }
    if (!S.meta.device) await setMeta("device", "pwa-" + newKey().replace(/-/g, "").slice(0, 16));
    if (S.meta.owner && S.meta.owner !== CFG.user) S.blocked = S.meta.owner; // until the server says who is signed in
    window.addEventListener("hashchange", route);
    window.addEventListener("online", () => { renderStatus(); sync(); });
    window.addEventListener("offline", () => renderStatus());
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden" && F && F.dirty) saveDraft(); });
    window.addEventListener("pagehide", () => { if (F && F.dirty) saveDraft(); });
    render();
    body.dataset.ready = "1";
    if (online()) sync();
  }

  start();
})();
