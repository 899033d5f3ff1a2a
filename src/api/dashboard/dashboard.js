/* global document, location, history, fetch, URLSearchParams, setTimeout, clearTimeout */
// The videos dashboard: every view is one GET /api/videos (page-number paging); the state lives in the
// page's query string so a view can be bookmarked and reloaded.
const $ = (id) => document.getElementById(id);
const state = { search: '', query: '', after: '', before: '', ordering: '-publishedAt', pageSize: '20', page: 1 };
let seq = 0;

function readUrl() {
  const qs = new URLSearchParams(location.search);
  for (const k of Object.keys(state)) if (qs.has(k)) state[k] = k === 'page' ? Number(qs.get(k)) || 1 : qs.get(k);
}

function writeForm() {
  $('search').value = state.search;
  $('query').value = state.query;
  $('after').value = state.after;
  $('before').value = state.before;
  $('ordering').value = state.ordering;
  $('pageSize').value = state.pageSize;
  showSort();
}

/** The ▲/▼ on the sorted column. */
function showSort() {
  for (const b of document.querySelectorAll('button.sort')) {
    const f = b.dataset.field;
    if (state.ordering === f) b.dataset.dir = '▲';
    else if (state.ordering === `-${f}`) b.dataset.dir = '▼';
    else delete b.dataset.dir;
  }
}

function apiQuery() {
  const qs = new URLSearchParams();
  if (state.search.trim()) qs.set('search', state.search.trim());
  if (state.query.trim()) qs.set('query', state.query.trim());
  if (state.after) qs.set('publishedAfter', state.after);
  if (state.before) qs.set('publishedBefore', state.before);
  if (state.ordering !== '-publishedAt') qs.set('ordering', state.ordering);
  qs.set('pageSize', state.pageSize);
  qs.set('page', String(state.page));
  return qs;
}

const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

function cell(tr, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  tr.append(td);
  return td;
}

function render(data) {
  const body = document.querySelector('#videos tbody');
  body.replaceChildren();
  for (const v of data.items) {
    const tr = document.createElement('tr');
    tr.dataset.id = v.videoId;
    const img = document.createElement('img');
    img.src = v.thumbnails.medium ?? v.thumbnails.default ?? Object.values(v.thumbnails)[0] ?? '';
    img.alt = '';
    img.loading = 'lazy';
    cell(tr, 'thumb').append(img);
    const t = cell(tr, 'title');
    const a = document.createElement('a');
    a.href = `https://www.youtube.com/watch?v=${encodeURIComponent(v.videoId)}`;
    a.textContent = v.title;
    a.rel = 'noopener';
    a.target = '_blank';
    const d = document.createElement('p');
    d.textContent = v.description;
    t.append(a, d);
    cell(tr, 'channel').textContent = v.channelTitle;
    const when = cell(tr, 'published');
    const time = document.createElement('time');
    time.dateTime = v.publishedAt;
    time.textContent = `${fmt.format(new Date(v.publishedAt))} UTC`;
    when.append(time);
    body.append(tr);
  }
  const pages = Math.max(1, Math.ceil(data.total / data.pageSize));
  $('status').textContent = `Page ${data.page} of ${pages} · ${data.total} videos`;
  $('prev').disabled = !data.prev;
  $('next').disabled = !data.next;
}

async function load() {
  const mine = ++seq;
  const qs = apiQuery();
  history.replaceState(null, '', `?${new URLSearchParams({ ...state, page: String(state.page) })}`);
  document.body.dataset.loading = 'true';
  try {
    const res = await fetch(`/api/videos?${qs}`);
    const data = await res.json();
    if (mine !== seq) return; // a newer request went out meanwhile
    if (!res.ok) {
      $('error').textContent = `${data.error?.parameter ?? 'error'}: ${data.error?.message ?? res.statusText}`;
      $('error').hidden = false;
      return;
    }
    $('error').hidden = true;
    render(data);
  } catch (e) {
    if (mine !== seq) return;
    $('error').textContent = `The API did not answer: ${e}`;
    $('error').hidden = false;
  } finally {
    if (mine === seq) delete document.body.dataset.loading;
  }
}

// The form is written from the state only at start (from the URL): afterwards the inputs lead, so a
// change elsewhere never overwrites what the user is still typing.
function change(k, v) {
  state[k] = v;
  state.page = 1;
  if (k === 'ordering') $('ordering').value = v;
  showSort();
  void load();
}

let typing;
function init() {
  readUrl();
  writeForm();
  $('search').addEventListener('input', (e) => {
    clearTimeout(typing);
    typing = setTimeout(() => change('search', e.target.value), 250);
  });
  $('query').addEventListener('change', (e) => change('query', e.target.value));
  $('after').addEventListener('change', (e) => change('after', e.target.value));
  $('before').addEventListener('change', (e) => change('before', e.target.value));
  $('ordering').addEventListener('change', (e) => change('ordering', e.target.value));
  $('pageSize').addEventListener('change', (e) => change('pageSize', e.target.value));
  for (const b of document.querySelectorAll('button.sort'))
    b.addEventListener('click', () => {
      const f = b.dataset.field;
      const desc = f === 'publishedAt' ? state.ordering !== `-${f}` : state.ordering === f;
      change('ordering', desc ? `-${f}` : f);
    });
  $('filters').addEventListener('submit', (e) => e.preventDefault());
  $('prev').addEventListener('click', () => {
    state.page = Math.max(1, state.page - 1);
    void load();
  });
  $('next').addEventListener('click', () => {
    state.page += 1;
    void load();
  });
  void load();
}

init();
