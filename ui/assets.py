"""The page's stylesheet and its one script, inline (no file is served from disk)."""

CSS = """
#page-title h1 { margin: 0; font-size: 1.4rem; }
#page-title p { margin: .2rem 0 0; color: var(--body-text-color-subdued); }
.status { font-size: .9rem; color: var(--body-text-color-subdued); }
.status.error, .msg.error { color: #b91c1c; }
.status .busy { color: #b45309; }
.msg { font-size: .9rem; margin: .25rem 0; }
.msg.ok { color: #15803d; }
.question { white-space: normal; }
.answer .note, .answer .notice, .answer .hint, .answer .warn { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: .3rem; }
.answer .warn { color: #b45309; margin-top: .3rem; }
.answer .refusal { color: #b45309; font-weight: 500; }
.answer.error { color: #b91c1c; }
.answer .unsupported { color: var(--body-text-color-subdued); opacity: .75; text-decoration: underline dotted; }
.answer .caret { opacity: .5; }
a.cite { display: inline-block; font-weight: 600; font-size: .85em; text-decoration: none; cursor: pointer;
         padding: 0 .25em; margin: 0 .1em; border-radius: 4px; background: var(--color-accent-soft); color: var(--color-accent); }
a.cite:hover { background: var(--color-accent); color: white; }
#sources-panel { max-height: 46vh; overflow-y: auto !important; }
.sources-head, .closest-head { font-size: .9rem; color: var(--body-text-color-subdued); margin-bottom: .4rem; }
.sources.empty, .article.empty, .articles.empty { color: var(--body-text-color-subdued); font-size: .9rem; padding: .5rem 0; }
.card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .75rem; margin-bottom: .6rem; }
.card.active { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.card .num { color: var(--color-accent); font-weight: 700; }
.card .meta, .article .meta { font-size: .8rem; color: var(--body-text-color-subdued); margin: .15rem 0 .35rem; }
.card blockquote.passage { margin: 0; padding: .2rem 0 .2rem .6rem; border-left: 3px solid var(--border-color-primary);
                           font-size: .9rem; line-height: 1.45; }
.card a.open { font-size: .85rem; cursor: pointer; }
mark { background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px; }
mark.passage { background: #dbeafe; }
#article-view .article-title { font-weight: 700; margin-top: .5rem; }
#article-view .article-body { max-height: 38vh; overflow-y: auto; line-height: 1.5; font-size: .92rem;
                              border-top: 1px solid var(--border-color-primary); padding-top: .4rem; }
table.articles { width: 100%; font-size: .85rem; border-collapse: collapse; }
table.articles th, table.articles td { text-align: left; padding: .25rem .4rem; border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
table.articles td.n { text-align: right; }
"""

# Run once on page load. Citation markers, "open the article" links and closest
# passages are plain #fragment links (the only links the page renders); a click
# stores the fragment in window.__citeTarget and clicks the hidden #cite-button,
# whose event hands it to the Python handler. Whatever the handler marks .scroll-target is scrolled into view.
JS = """
() => {
  if (window.__newsAssistant) return;
  window.__newsAssistant = true;
  const send = (target) => {
    const button = document.querySelector('#cite-button');
    if (!button) return;
    window.__citeTarget = target;
    button.click();
  };
  document.addEventListener('click', (ev) => {
    const link = ev.target.closest && ev.target.closest('a[href^="#cite-"], a[href^="#open-"], a[href^="#passage-"]');
    if (!link) return;
    ev.preventDefault();
    ev.stopPropagation();
    send(link.getAttribute('href').slice(1));
  }, true);
  // Scroll the element's own scrolling box (the sources panel, the article body) to centre it,
  // after bringing that box into view: the page itself moves as little as possible.
  const scrollWithin = (el) => {
    let box = el.parentElement;
    while (box && box !== document.body) {
      const overflow = getComputedStyle(box).overflowY;
      if ((overflow === 'auto' || overflow === 'scroll') && box.scrollHeight > box.clientHeight) break;
      box = box.parentElement;
    }
    if (!box || box === document.body) { el.scrollIntoView({ block: 'nearest' }); return; }
    box.scrollIntoView({ block: 'nearest' });
    const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
    const centred = (r.top - b.top) - Math.max(8, (box.clientHeight - r.height) / 2);
    box.scrollTop += r.height > box.clientHeight ? (r.top - b.top) - 8 : centred;
  };
  const scrollTargets = () => {
    document.querySelectorAll('.scroll-target').forEach((el) => {
      el.classList.remove('scroll-target');
      scrollWithin(el);
    });
  };
  new MutationObserver(scrollTargets).observe(document.body, { childList: true, subtree: true });
}
"""
