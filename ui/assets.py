"""The page's stylesheet and its one script, inline (no file is served from disk)."""

CSS = """
#page-title h1 { margin: 0; font-size: 1.4rem; }
#page-title p { margin: .2rem 0 0; color: var(--body-text-color-subdued); }
#top-bar { align-items: center; }
#lang-switch { max-width: 9rem; }
.status { font-size: .9rem; color: var(--body-text-color-subdued); }
.status progress { width: 8rem; vertical-align: middle; }
.status.error, .msg.error { color: #b91c1c; }
.status .busy { color: #b45309; }
.msg { font-size: .9rem; margin: .25rem 0; }
.msg.ok { color: #15803d; }
.question { white-space: normal; }
.answer .note, .answer .notice, .answer .hint, .answer .warn, .answer .differ { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: .3rem; }
.answer .differ { color: #1d4ed8; margin-top: .3rem; }
.answer .warn { color: #b45309; margin-top: .3rem; }
.answer .refusal { color: #b45309; font-weight: 500; }
.answer.error { color: #b91c1c; }
.answer .unsupported { color: var(--body-text-color-subdued); opacity: .75; text-decoration: underline dotted; }
.answer .caret { opacity: .6; }
.answer .tools { margin-top: .35rem; font-size: .78em; display: flex; gap: .8rem; align-items: center; }
.answer .tools a.copy { text-decoration: none; color: var(--body-text-color-subdued); cursor: pointer; }
.answer .tools a.copy:hover { color: var(--color-accent); }
.answer .confidence { color: var(--body-text-color-subdued); }
.answer .md-source { display: none; }
.answer .tools a.copy.copied::after { content: " ✓"; }
a.cite, span.cite { display: inline-block; font-weight: 600; font-size: .85em; text-decoration: none; cursor: pointer;
         padding: 0 .25em; margin: 0 .1em; border-radius: 4px; background: var(--color-accent-soft); color: var(--color-accent); }
span.cite.pending { opacity: .45; cursor: default; }
a.cite:hover { background: var(--color-accent); color: white; }
#sources-panel { max-height: 46vh; overflow-y: auto !important; }
.sources-head, .closest-head { font-size: .9rem; color: var(--body-text-color-subdued); margin-bottom: .4rem; }
.closest-head { font-weight: 600; color: #b45309; }
.sources.empty, .article.empty, .articles.empty { color: var(--body-text-color-subdued); font-size: .9rem; padding: .5rem 0; }
.card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .75rem; margin-bottom: .6rem; }
.card.active { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.card .num { color: var(--color-accent); font-weight: 700; }
.card .meta, .article .meta { font-size: .8rem; color: var(--body-text-color-subdued); margin: .15rem 0 .35rem; }
.card blockquote.passage { margin: 0; padding: .2rem 0 .2rem .6rem; border-left: 3px solid var(--border-color-primary);
                           font-size: .9rem; line-height: 1.45; color: var(--body-text-color-subdued); }
.card blockquote.passage mark { color: var(--body-text-color); }
.card .also { font-size: .82rem; margin: .35rem 0 .1rem; color: #15803d; }
.card a.open { font-size: .85rem; cursor: pointer; }
mark { background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px; }
mark.passage { background: #dbeafe; }
mark.top { background: none; padding: 0; }
#article-view .article-title { font-weight: 700; margin-top: .5rem; }
#article-view .article-body { max-height: 38vh; overflow-y: auto; line-height: 1.5; font-size: .92rem;
                              border-top: 1px solid var(--border-color-primary); padding-top: .4rem; }
/* Fixed layout: long titles and file names wrap inside the panel instead of widening the page. */
table.articles { width: 100%; font-size: .85rem; border-collapse: collapse; table-layout: fixed; }
table.articles th:nth-child(1) { width: 30%; } table.articles th:nth-child(2) { width: 14%; }
table.articles th:nth-child(3) { width: 13%; } table.articles th:nth-child(4) { width: 20%; }
table.articles th:nth-child(5) { width: 11%; } table.articles th:nth-child(6) { width: 12%; }
table.articles td, table.articles th { overflow-wrap: anywhere; }
table.articles th, table.articles td { text-align: left; padding: .25rem .4rem; border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
table.articles th.sortable { cursor: pointer; user-select: none; white-space: nowrap; }
table.articles th.sorted-asc::after { content: " ▲"; font-size: .7em; }
table.articles th.sorted-desc::after { content: " ▼"; font-size: .7em; }
table.articles td.n { text-align: right; white-space: nowrap; }
table.articles tr.dup td { color: var(--body-text-color-subdued); font-style: italic; }
table.articles a.art-delete { color: #b91c1c; font-size: .8rem; }
#articles-list { max-height: 55vh; overflow: auto; }
table.articles td code { word-break: break-all; font-size: .8rem; }
#drawer-toggle { display: none !important; }
@media (max-width: 760px) {
  #page-title p, #examples, #watch-line { display: none !important; }
  #page-title { min-width: 0 !important; overflow: hidden; }
  #page-title h1 { font-size: 1.05rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  #page-title { flex: 1 1 auto !important; }
  #lang-switch, #drawer-toggle { flex: 0 0 auto !important; min-width: 0 !important; }
  #lang-switch label { padding: .2rem .45rem; }
  #ask-button { min-width: 6rem !important; flex: 0 0 auto !important; padding: 0 .6rem; font-size: .9rem; }
  #top-bar { flex-wrap: nowrap !important; gap: .4rem; }
  #lang-switch .wrap { flex-wrap: nowrap !important; }
  #chatbot { height: calc(100svh - 270px) !important; min-height: 240px; }
  #main-row { flex-wrap: nowrap; }
  /* The side panel (sources, articles) is a drawer over the chat, opened by the Sources button. */
  #side-panel { position: fixed !important; left: 0; right: 0; bottom: 0; height: 82svh; z-index: 50;
                background: var(--background-fill-primary); box-shadow: 0 -6px 24px rgba(0,0,0,.25);
                border-radius: 12px 12px 0 0; padding: .6rem; overflow-y: auto; transform: translateY(105%);
                transition: transform .2s ease; min-width: 0 !important; }
  #side-panel[data-drawer="open"] { transform: translateY(0); }
  #drawer-toggle { display: block !important; background: var(--color-accent); color: white; font-weight: 600;
                   border-radius: 999px; }
  #sources-panel, #articles-list { max-height: none; }
}
"""

# Run once on page load. Citation markers, "open the article" links, closest passages and the
# article list's links are plain #fragment links (the only links the page renders); a click
# stores the fragment in window.__citeTarget and clicks the hidden #cite-button, whose event
# hands it to the Python handler. Whatever the handler marks .scroll-target is scrolled to the
# middle of its box; a sources panel showing another answer starts at its top.
JS = """
() => {
  if (window.__newsAssistant) return;
  window.__newsAssistant = true;
  const narrow = () => window.matchMedia('(max-width: 760px)').matches;
  // Gradio scopes the page's CSS inside its container, so the drawer state is an attribute
  // on the panel itself (which Gradio does not re-render), not a class on <body>.
  const panel = () => document.querySelector('#side-panel');
  const drawerOpen = () => panel() && panel().dataset.drawer === 'open';
  const drawer = (open) => { if (panel()) panel().dataset.drawer = open ? 'open' : 'closed'; };
  const send = (target) => {
    const button = document.querySelector('#cite-button');
    if (!button) return;
    window.__citeTarget = target + '|' + Date.now();
    button.click();
  };
  const copyText = async (text) => {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      const ok = document.execCommand('copy'); area.remove(); return ok;
    }
  };
  window.__downloadText = (name, text) => {
    if (!text) return;
    const url = URL.createObjectURL(new Blob([text], { type: 'text/markdown;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url; a.download = name; document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };
  document.addEventListener('click', (ev) => {
    const t = ev.target;
    if (!t.closest) return;
    if (t.closest('#drawer-toggle')) { drawer(!drawerOpen()); return; }
    const copy = t.closest('a.copy');
    if (copy) {
      ev.preventDefault(); ev.stopPropagation();
      const bubble = copy.closest('.answer');
      const source = bubble && bubble.querySelector('.md-source');
      if (source) copyText(source.textContent).then((ok) => {
        copy.classList.toggle('copied', ok); copy.setAttribute('data-copied', ok ? '1' : '0');
      });
      return;
    }
    const th = t.closest('table.articles th.sortable');
    if (th) {
      const col = +th.dataset.col;
      const dir = window.__articleSort && window.__articleSort.col === col && window.__articleSort.dir === 1 ? -1 : 1;
      window.__articleSort = { col, dir };
      arrangeArticles();
      return;
    }
    const del = t.closest('a.art-delete');
    if (del) {
      ev.preventDefault(); ev.stopPropagation();
      if (window.confirm(del.getAttribute('data-confirm'))) send(del.getAttribute('href').slice(1));
      return;
    }
    const link = t.closest('a[href^="#cite-"], a[href^="#open-"], a[href^="#passage-"], a[href^="#article:"]');
    if (!link) return;
    ev.preventDefault();
    ev.stopPropagation();
    if (narrow() && !link.closest('#side-panel')) drawer(true);
    send(link.getAttribute('href').slice(1));
  }, true);
  // The article list: sorted by the chosen column, filtered by the filter box; kept after each refresh.
  const arrangeArticles = () => {
    const table = document.querySelector('#articles-list table.articles');
    if (!table) return;
    const box = document.querySelector('#articles-filter textarea, #articles-filter input');
    const words = (box ? box.value : '').toLowerCase().split(/\\s+/).filter(Boolean);
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.forEach((row) => {
      const text = row.textContent.toLowerCase();
      row.style.display = words.every((w) => text.includes(w)) ? '' : 'none';
    });
    const sort = window.__articleSort;
    table.querySelectorAll('th.sortable').forEach((h) => h.classList.remove('sorted-asc', 'sorted-desc'));
    if (!sort) return;
    const th = table.querySelector(`th[data-col="${sort.col}"]`);
    if (th) th.classList.add(sort.dir === 1 ? 'sorted-asc' : 'sorted-desc');
    const key = (row) => (row.cells[sort.col] && row.cells[sort.col].dataset.sort) || '';
    const sorted = rows.slice().sort((a, b) => key(a).localeCompare(key(b)) * sort.dir);
    if (sorted.some((row, i) => row !== rows[i])) sorted.forEach((row) => body.appendChild(row));  // else no mutation
  };
  document.addEventListener('input', (ev) => {
    if (ev.target.closest && ev.target.closest('#articles-filter')) arrangeArticles();
  }, true);
  // Times written by the server as <time datetime=ISO> become "2 minutes ago", local time on hover.
  const relative = () => {
    document.querySelectorAll('.status time[datetime]').forEach((el) => {
      const when = new Date(el.getAttribute('datetime'));
      if (isNaN(when)) return;
      const lang = el.dataset.lang === 'fr' ? 'fr' : 'en';
      const secs = Math.round((when - Date.now()) / 1000);
      const fmt = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
      const abs = Math.abs(secs);
      const text = abs < 45 ? fmt.format(0, 'second') : abs < 3600 ? fmt.format(Math.round(secs / 60), 'minute')
        : abs < 86400 ? fmt.format(Math.round(secs / 3600), 'hour') : fmt.format(Math.round(secs / 86400), 'day');
      if (el.textContent !== text) el.textContent = text;
      const local = when.toLocaleString(lang);
      if (el.title !== local) el.title = local;
    });
  };
  setInterval(relative, 30000);
  // Scroll the element's own scrolling box (the sources panel, the article body) to centre it,
  // after bringing that box into view: the page itself moves as little as possible.
  const scrollWithin = (el) => {
    let box = el.parentElement;
    while (box && box !== document.body) {
      const overflow = getComputedStyle(box).overflowY;
      if ((overflow === 'auto' || overflow === 'scroll') && box.scrollHeight > box.clientHeight) break;
      box = box.parentElement;
    }
    if (!box || box === document.body) { el.scrollIntoView({ block: 'center' }); return; }
    box.scrollIntoView({ block: 'nearest' });
    const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
    const centred = (r.top - b.top) - Math.max(8, (box.clientHeight - r.height) / 2);
    box.scrollTop += r.height > box.clientHeight ? (r.top - b.top) - 8 : centred;
  };
  let shown = '';
  const onChange = () => {
    document.querySelectorAll('.scroll-target').forEach((el) => {
      el.classList.remove('scroll-target');
      scrollWithin(el);
    });
    // Another answer's sources (or a refusal's closest passages): start at the top, header in view.
    const sources = document.querySelector('#sources-panel .sources');
    const panel = document.querySelector('#sources-panel');
    if (sources && panel) {
      const key = (sources.dataset.turn || '') + ':' + (sources.dataset.active || '') + ':' + sources.className;
      if (key !== shown) {
        shown = key;
        if (sources.dataset.active === '0' || !sources.dataset.active) panel.scrollTop = 0;
      }
    }
    arrangeArticles();
    relative();
  };
  new MutationObserver(onChange).observe(document.body, { childList: true, subtree: true });
}
"""
