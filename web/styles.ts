/**
 * The admin page's one stylesheet. It lives in a module rather than a .css file so that the
 * Worker bundle carries it without a file system; it is served from `/admin/assets/`, which
 * lets the Content-Security-Policy stay at `style-src 'self'` with no inline styles.
 */
export const STYLESHEET = `
:root {
  color-scheme: light dark;
  --bg: #f5f6f8;
  --surface: #ffffff;
  --surface-2: #f9fafb;
  --border: #e2e5ea;
  --border-strong: #cfd4db;
  --text: #1b1f24;
  --muted: #5d6876;
  /* The lightest text colour: still 4.5:1 (WCAG AA) on every background it is used on. */
  --faint: #626c7a;
  --link: #2450c4;
  --focus: #3b6fe0;
  --header-bg: #15181c;
  --header-text: #e9ecf0;
  --header-muted: #9aa3ae;
  --primary: #2450c4;
  --primary-text: #ffffff;
  --danger: #b42318;
  --code-bg: #f6f7f9;
  --json-key: #7a3aa0;
  --json-string: #1d7a3a;
  --json-number: #a6530b;
  --json-literal: #2450c4;
  --red-bg: #fdecec; --red-fg: #b42318;
  --green-bg: #e5f4ea; --green-fg: #1b6f37;
  --blue-bg: #e8effd; --blue-fg: #1f48b3;
  --amber-bg: #fff2dc; --amber-fg: #945400;
  --grey-bg: #eceef2; --grey-fg: #4b5563;
  --teal-bg: #e1f4f1; --teal-fg: #0f6b62;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111317; --surface: #181b20; --surface-2: #1d2026; --border: #2a2f37;
    --border-strong: #3a404a; --text: #e4e7eb; --muted: #a0a9b5; --faint: #8e97a3;
    --link: #8fb0ff; --focus: #8fb0ff; --header-bg: #0b0c0f; --primary: #3d67d8; --danger: #ff9b91;
    --code-bg: #14171b; --json-key: #d2a8ff; --json-string: #7ee2a0; --json-number: #ffb76b;
    --json-literal: #8fb0ff;
    --red-bg: #3a1717; --red-fg: #ff9b91; --green-bg: #15301f; --green-fg: #7fdc9d;
    --blue-bg: #172544; --blue-fg: #a3bfff; --amber-bg: #3a2a0f; --amber-fg: #ffc66b;
    --grey-bg: #272b32; --grey-fg: #c1c7d0; --teal-bg: #10302c; --teal-fg: #6fd8c9;
  }
}
* { box-sizing: border-box; }
html { font-size: 14px; }
body { margin: 0; background: var(--bg); color: var(--text); font: 1rem/1.45 var(--sans); }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
/* A link inside a sentence is underlined: its colour alone differs from the text's by less than 3:1. */
:is(p, li, .crumbs, .hint, blockquote) a:not(.button, .badge, .node) { text-decoration: underline;
  text-underline-offset: 2px; }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; border-radius: 3px; }
code, pre, .mono { font-family: var(--mono); font-size: 0.9rem; }
h1, h2, h3 { margin: 0; font-weight: 600; }
h1 { font-size: 1.35rem; letter-spacing: -0.01em; }
h1.id { font-size: 1.15rem; font-weight: 600; }
h2 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); }
p { margin: 0 0 0.6rem; }

.skip-link { position: absolute; left: -9999px; top: 0; }
.skip-link:focus { left: 8px; top: 8px; z-index: 10; background: var(--surface); color: var(--link);
  padding: 6px 10px; border: 1px solid var(--border-strong); border-radius: 5px; text-decoration: underline; }

.topbar { background: var(--header-bg); color: var(--header-text); }
.topbar-inner { max-width: 1240px; margin: 0 auto; padding: 0 24px; height: 48px;
  display: flex; align-items: center; gap: 28px; }
.brand { color: var(--header-text); font-weight: 650; letter-spacing: 0.01em; display: flex; gap: 8px;
  align-items: baseline; }
.brand small { color: var(--header-muted); font-weight: 500; font-size: 0.85rem; }
.brand:hover { text-decoration: none; }
.nav { display: flex; gap: 4px; flex: 1; }
.nav a { color: var(--header-muted); padding: 6px 10px; border-radius: 5px; }
.nav a:hover { color: var(--header-text); background: rgba(255,255,255,0.06); text-decoration: none; }
.nav a[aria-current="page"] { color: var(--header-text); background: rgba(255,255,255,0.1); }
.whoami { display: flex; align-items: center; gap: 10px; color: var(--header-muted); font-size: 0.9rem; }
.whoami strong { color: var(--header-text); font-weight: 550; }
.whoami form { margin: 0; }
.whoami .button { background: transparent; color: var(--header-text); border-color: #3a414b; }
.whoami .button:hover { background: rgba(255,255,255,0.08); }
.whoami a { color: var(--header-text); }

/* A word longer than the screen (an id, a token, an input) breaks rather than widening the page. */
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 48px; overflow-wrap: break-word; }
h1.id, .notice, .error-box, .crumbs { overflow-wrap: anywhere; }
.page-head { display: flex; align-items: flex-end; justify-content: space-between; gap: 16px;
  margin-bottom: 14px; flex-wrap: wrap; }
.page-head .title { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.crumbs { color: var(--muted); font-size: 0.9rem; margin-bottom: 4px; }
.crumbs a { color: var(--muted); }
.subtle { color: var(--muted); }
.faint { color: var(--faint); }
.nowrap { white-space: nowrap; }

.panel { background: var(--surface); border: 1px solid var(--border); border-radius: 7px;
  margin-bottom: 14px; }
.panel > header { display: flex; align-items: center; justify-content: space-between; gap: 10px;
  padding: 9px 14px; border-bottom: 1px solid var(--border); }
.panel > header a { font-size: 0.9rem; }
.panel-body { padding: 12px 14px; }
.panel-body > :last-child { margin-bottom: 0; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 14px;
  margin-bottom: 14px; align-items: start; }
.columns > .panel, .columns > div > .panel:last-child { margin-bottom: 0; }
@media (max-width: 900px) { .columns { grid-template-columns: minmax(0, 1fr); } }

/* Relative, so that what is positioned inside a table (.sr-only) scrolls with it, not the page. */
.table-wrap { overflow-x: auto; position: relative; }
table.grid { width: 100%; border-collapse: collapse; font-size: 0.95rem; }
.grid th { text-align: left; font-weight: 600; color: var(--muted); font-size: 0.78rem;
  text-transform: uppercase; letter-spacing: 0.05em; padding: 7px 12px;
  border-bottom: 1px solid var(--border); background: var(--surface-2); white-space: nowrap; }
.grid td { padding: 7px 12px; border-bottom: 1px solid var(--border); vertical-align: top; }
.grid tr:last-child td { border-bottom: 0; }
.grid tbody tr:hover td { background: var(--surface-2); }
.grid td.num, .grid th.num { text-align: right; font-variant-numeric: tabular-nums; }
.grid .clip { max-width: 300px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.grid .wrap { max-width: 420px; }
/* Codes, ids and names come as one long word at times: they break rather than widen the table. */
.grid td.mono, .grid td code, .grid .id, .grid .chip { overflow-wrap: anywhere; }
.empty { padding: 22px 14px; color: var(--muted); text-align: center; }

/*
 * On a narrow screen a table of cards (.cards) is a list of its rows: each cell on a line of its
 * own beside its column's name (data-label), wrapping, so that nothing scrolls sideways. The
 * header row is still there for screen readers, out of sight.
 */
@media (max-width: 720px) {
  table.cards, .cards > tbody, .cards > tbody > tr { display: block; }
  .cards > thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .cards > tbody > tr { padding: 6px 12px; border-bottom: 1px solid var(--border); }
  .cards > tbody > tr:last-child { border-bottom: 0; }
  .grid.cards > tbody > tr > :is(td, th) { display: flow-root; padding: 3px 0 3px 7.5rem; border: 0;
    max-width: none; overflow: visible; white-space: normal; overflow-wrap: anywhere; text-align: left; }
  .cards > tbody > tr > [data-label]::before { content: attr(data-label); float: left; width: 7rem;
    margin-left: -7.5rem; color: var(--muted); font: 600 0.78rem/1.9 var(--sans);
    text-transform: uppercase; letter-spacing: 0.05em; overflow-wrap: normal; }
  .grid.cards tbody tr:hover td { background: none; }
  /* A table that stays a table gets narrower cells, and what would not wrap in them wraps. */
  .grid th, .grid td { padding: 6px 8px; }
  .grid td.nowrap, .grid td .nowrap { white-space: normal; }
}

dl.meta { display: grid; grid-template-columns: 150px minmax(0, 1fr); gap: 6px 14px; margin: 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }

.id { font-family: var(--mono); font-size: 0.88rem; }
.badge { display: inline-flex; align-items: center; gap: 5px; padding: 1px 8px 1px 7px; border-radius: 999px;
  font-size: 0.75rem; font-weight: 650; letter-spacing: 0.04em; line-height: 1.6; white-space: nowrap; }
.badge::before { content: ""; width: 6px; height: 6px; border-radius: 50%; background: currentColor; }
.badge-failed { background: var(--red-bg); color: var(--red-fg); }
.badge-completed { background: var(--green-bg); color: var(--green-fg); }
.badge-running { background: var(--blue-bg); color: var(--blue-fg); }
.badge-queued { background: var(--grey-bg); color: var(--grey-fg); }
.badge-awaiting { background: var(--amber-bg); color: var(--amber-fg); }
.badge-consumed { background: var(--teal-bg); color: var(--teal-fg); }
.badge-rejected { background: var(--grey-bg); color: var(--grey-fg); }
.badge-expired { background: var(--red-bg); color: var(--red-fg); }
.badge-override { background: var(--amber-bg); color: var(--amber-fg); }
.badge-kind { background: var(--blue-bg); color: var(--blue-fg); }
.badge-input { background: var(--grey-bg); color: var(--grey-fg); }
.badge-role { background: rgba(255,255,255,0.1); color: var(--header-text); }
.badge-role::before { display: none; }
.chip { display: inline-block; padding: 0 7px; border-radius: 4px; background: var(--grey-bg);
  color: var(--grey-fg); font-size: 0.8rem; font-family: var(--mono); }

.tabs { display: flex; gap: 6px; flex-wrap: wrap; margin-bottom: 12px; align-items: center; }
.tab { display: inline-flex; align-items: center; gap: 8px; padding: 5px 11px; border-radius: 6px;
  border: 1px solid var(--border); background: var(--surface); color: var(--text); }
.tab:hover { text-decoration: none; border-color: var(--border-strong); }
.tab[aria-current="page"] { border-color: var(--text); box-shadow: inset 0 0 0 1px var(--text); }
.tab .count { font-variant-numeric: tabular-nums; color: var(--muted); font-size: 0.9rem; }
.tab.tab-failed .count { color: var(--red-fg); font-weight: 650; }
.filters { display: flex; gap: 10px; align-items: flex-end; flex-wrap: wrap; margin: 0 0 12px; }
.filters .field { margin: 0; }
.filter-sep { width: 1px; align-self: stretch; background: var(--border); margin: 0 4px; }

.field { display: grid; gap: 4px; margin-bottom: 10px; }
.field label { font-weight: 550; font-size: 0.92rem; }
.hint { color: var(--muted); font-size: 0.88rem; }
.hint code { white-space: nowrap; }
input[type="text"], input[type="password"], input[type="search"], input[type="datetime-local"], select, textarea {
  font: inherit; color: var(--text); background: var(--surface); border: 1px solid var(--border-strong);
  border-radius: 5px; padding: 6px 9px; min-width: 0; max-width: 100%; }
textarea { width: 100%; min-height: 64px; resize: vertical; }
select { padding-right: 24px; }
input[type="text"], input[type="password"], input[type="search"], input[type="datetime-local"], select { height: 32px; }
.field.check label { display: flex; gap: 8px; align-items: center; font-weight: 600; }
.field.check input { width: 16px; height: 16px; margin: 0; }
fieldset { border: 0; padding: 0; margin: 0; min-width: 0; }
fieldset[disabled] { opacity: 0.55; }
legend { font-weight: 600; padding: 0; margin-bottom: 8px; }
.form-grid { display: grid; grid-template-columns: minmax(240px, 400px) minmax(0, 1fr); gap: 0 14px;
  align-items: start; }
.form-grid select { width: 100%; }
@media (max-width: 900px) { .form-grid { grid-template-columns: minmax(0, 1fr); } }
.marks { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-top: 4px; }
.batch-offer { display: grid; gap: 4px; justify-items: end; margin: 0; max-width: 360px; text-align: right; }
.big-count { font-size: 1.05rem; margin-bottom: 4px; }
.big-count strong { font-size: 1.8rem; font-weight: 650; font-variant-numeric: tabular-nums; margin-right: 4px; }
ul.excluded { margin: 0 0 0.6rem; padding-left: 1.2rem; display: grid; gap: 4px; }
ol.id-list { list-style: none; margin: 0; padding: 8px 10px; max-height: 320px; overflow: auto;
  display: grid; grid-template-columns: repeat(auto-fill, minmax(min(240px, 100%), 1fr)); gap: 2px 16px;
  border: 1px solid var(--border); border-radius: 5px; background: var(--surface-2); }
.table-wrap.scroll { max-height: 520px; overflow: auto; }
.table-wrap.scroll thead th { position: sticky; top: 0; z-index: 1; }
dl.counts { display: flex; gap: 10px; margin: 0 0 14px; flex-wrap: wrap; }
dl.counts > div { display: grid; gap: 4px; justify-items: start; padding: 8px 12px; min-width: 110px;
  border: 1px solid var(--border); border-radius: 6px; background: var(--surface-2); }
dl.counts dt { margin: 0; }
dl.counts dd { margin: 0; font-size: 1.4rem; font-weight: 650; font-variant-numeric: tabular-nums; }
dl.counts dd .subtle { font-size: 0.85rem; font-weight: 400; }
.retry-state { display: inline-flex; gap: 6px; align-items: center; white-space: nowrap; }
.button { display: inline-flex; align-items: center; gap: 6px; font: inherit; font-weight: 550;
  padding: 6px 13px; border-radius: 5px; border: 1px solid var(--border-strong);
  background: var(--surface); color: var(--text); cursor: pointer; text-decoration: none; }
.button:hover { text-decoration: none; background: var(--surface-2); }
.button-primary { background: var(--primary); border-color: var(--primary); color: var(--primary-text); }
.button-primary:hover { background: var(--primary); filter: brightness(1.08); }
.button-danger { color: var(--danger); border-color: color-mix(in srgb, var(--danger) 45%, var(--border)); }
.button-small { padding: 3px 10px; font-size: 0.9rem; }
.button[disabled], fieldset[disabled] .button { cursor: not-allowed; filter: grayscale(0.6); }
.actions { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
form.inline { display: inline; margin: 0; }
.tabs .filters { margin: 0; align-items: center; gap: 8px; }
hr.rule { border: 0; border-top: 1px solid var(--border); margin: 14px 0; }
.confirm-actions { margin-top: 14px; }
blockquote.notice { margin: 0 0 10px; }

.notice { border: 1px solid var(--border); border-left-width: 4px; border-radius: 6px; padding: 9px 13px;
  margin-bottom: 14px; background: var(--surface); }
.notice p:last-child { margin-bottom: 0; }
.notice ul.issues { margin: 0; padding-left: 1.2rem; }
.notice strong.code { font-family: var(--mono); font-size: 0.88rem; margin-right: 6px; }
.notice-error { border-left-color: var(--red-fg); background: var(--red-bg); }
.notice-success { border-left-color: var(--green-fg); background: var(--green-bg); }
.notice-info { border-left-color: var(--blue-fg); }
.notice-warn { border-left-color: var(--amber-fg); background: var(--amber-bg); }
.panel .notice { margin-bottom: 10px; }

.error-box { border: 1px solid color-mix(in srgb, var(--red-fg) 30%, var(--border)); background: var(--red-bg);
  border-radius: 6px; padding: 9px 13px; margin-bottom: 14px; }
.error-box .code { font-family: var(--mono); font-weight: 650; color: var(--red-fg); }

.json { margin: 0; }
.json > summary { cursor: pointer; color: var(--muted); font-size: 0.88rem; padding: 2px 0 6px; }
/* JSON wraps rather than scrolling sideways; only a long document (.scroll) scrolls, in its own box. */
.json pre { margin: 0; background: var(--code-bg); border: 1px solid var(--border); border-radius: 5px;
  padding: 9px 11px; line-height: 1.5; white-space: pre-wrap; overflow-wrap: anywhere; }
.json pre.scroll, .diff-pane pre.scroll { max-height: 420px; overflow-y: auto; }
.json .k { color: var(--json-key); }
.json .s { color: var(--json-string); }
.json .n { color: var(--json-number); }
.json .l { color: var(--json-literal); }
td .json pre { padding: 5px 8px; font-size: 0.82rem; }
td .json pre.scroll { max-height: 180px; }
.json-diff { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 8px 14px; }
.json-diff .diff-summary { grid-column: 1 / -1; margin: 0; }
.diff-pane { min-width: 0; }
.diff-pane h3 { font-size: 0.92rem; font-weight: 600; margin-bottom: 6px; }
.diff-pane pre { margin: 0; background: var(--code-bg); border: 1px solid var(--border); border-radius: 5px;
  padding: 9px 0; line-height: 1.5; white-space: pre-wrap; overflow-wrap: anywhere; }
.diff-pane .k { color: var(--json-key); }
.diff-pane .s { color: var(--json-string); }
.diff-pane .n { color: var(--json-number); }
.diff-pane .l { color: var(--json-literal); }
/* As wide as its longest line, so that a marked line's background runs under all of it. */
.diff-pane code { display: inline-block; min-width: 100%; }
.diff-line { display: block; padding: 0 11px 0 26px; position: relative; text-decoration: none; }
.diff-line::before { position: absolute; left: 9px; color: var(--faint); }
del.diff-line { background: var(--red-bg); }
del.diff-line::before { content: "\\2212"; color: var(--red-fg); }
ins.diff-line { background: var(--green-bg); }
ins.diff-line::before { content: "+"; color: var(--green-fg); }
@media (max-width: 900px) { .json-diff { grid-template-columns: minmax(0, 1fr); } }
td .json > summary { padding: 0; }

.lineage { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; align-items: stretch; gap: 0; }
.lineage li { display: flex; align-items: center; }
.lineage .node { display: grid; gap: 2px; padding: 6px 11px; border: 1px solid var(--border);
  border-radius: 6px; background: var(--surface); }
.lineage .node:hover { text-decoration: none; border-color: var(--border-strong); }
.lineage .node-row { display: flex; gap: 8px; align-items: center; }
.lineage .node[aria-current="page"] { border-color: var(--text); box-shadow: inset 0 0 0 1px var(--text); }
.lineage .depth { font-size: 0.75rem; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
.lineage .link { color: var(--faint); padding: 0 10px; font-size: 0.82rem; display: grid;
  justify-items: center; min-width: 120px; }
.lineage .link .arrow { font-size: 1.1rem; line-height: 1; }
.lineage .link a { color: var(--muted); font-family: var(--mono); font-size: 0.78rem; }

.confirm { max-width: 720px; }
.confirm .warning { font-size: 1.08rem; font-weight: 600; margin: 0 0 6px; }
.login { max-width: 420px; margin: 8vh auto 0; }
.login input { width: 100%; }
/* The page's one heading, in the panel's header. */
.login h1 { font-size: 1.1rem; }
.pager { display: flex; justify-content: flex-end; gap: 10px; padding: 8px 14px; border-top: 1px solid var(--border); }
.pager:empty { display: none; }
footer.foot { max-width: 1240px; margin: 0 auto; padding: 0 24px 24px; color: var(--faint); font-size: 0.85rem; }

dl.signal-figures { display: flex; gap: 10px; flex-wrap: wrap; margin: 0 0 14px; }
dl.signal-figures > div { display: grid; gap: 2px; padding: 8px 12px; min-width: 130px;
  border: 1px solid var(--border); border-radius: 6px; background: var(--surface); }
dl.signal-figures dt { font-size: 0.85rem; }
dl.signal-figures dd { margin: 0; font-size: 1.35rem; font-weight: 650; font-variant-numeric: tabular-nums; }
figure.chart { margin: 0; }
figure.chart svg { display: block; width: 100%; height: auto; }
.chart text { fill: var(--muted); font: 11px var(--sans); }
.chart-grid line { stroke: var(--border); }
.chart-axis line { stroke: var(--border-strong); }
.series-failures { fill: var(--red-fg); background: var(--red-fg); }
.series-retries { fill: var(--blue-fg); background: var(--blue-fg); }
.chart-bars rect:hover { opacity: 0.75; }
.chart-legend { display: flex; gap: 16px; margin: 6px 0 4px; color: var(--muted); font-size: 0.9rem; }
.legend-item { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; }
.chart-data > summary { cursor: pointer; color: var(--muted); font-size: 0.88rem; padding: 4px 0; }
.chart-data tbody th { text-transform: none; letter-spacing: 0; font-size: 0.95rem; font-weight: 500;
  color: var(--text); background: none; }
.surge-brake { margin-top: 10px; }

.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.paused-banner ul { list-style: none; margin: 0 0 4px; padding: 0; display: grid; gap: 2px; }
.pause-reason { overflow-wrap: anywhere; }
.brake-state p.pause-reason { margin: 4px 0 0; }
.grid tbody th.row-head { text-transform: none; letter-spacing: 0; font-size: 0.9rem; font-weight: 600;
  color: var(--text); background: none; vertical-align: top; }
.grid tr:last-child th.row-head { border-bottom: 0; }

@media (max-width: 720px) {
  .topbar-inner { height: auto; flex-wrap: wrap; gap: 4px 16px; padding: 8px 12px; }
  .nav { order: 3; flex-basis: 100%; flex-wrap: wrap; }
  .nav a { padding: 4px 8px; }
  .whoami { margin-left: auto; min-width: 0; flex-wrap: wrap; }
  .whoami strong { overflow-wrap: anywhere; }
  .hint code { white-space: normal; overflow-wrap: anywhere; }
  .batch-offer { justify-items: start; max-width: none; text-align: left; }
  .filter-sep { display: none; }
  /* The chart is drawn 1080 units wide: its labels grow as it shrinks, to stay legible. */
  .chart text { font-size: 26px; }
  figure.chart svg { overflow: visible; }
  main { padding: 14px 12px 40px; }
  dl.meta { grid-template-columns: minmax(0, 1fr); gap: 0 14px; }
  dl.meta dd { margin-bottom: 6px; }
}

/*
 * The job page's error, what its service answered, and the lineage of attempts, one under the
 * other, and the error column of the jobs list: every text shown whole and wrapping, never cut
 * to a tooltip.
 */
.error-box p { margin: 0; }
.error-box .error-message { overflow-wrap: anywhere; }
.error-box .upstream { display: grid; gap: 6px; margin-top: 8px; }
.upstream-excerpt { margin: 0; padding: 8px 10px; background: var(--surface); color: var(--text);
  border: 1px solid var(--border); border-radius: 5px; white-space: pre-wrap; overflow-wrap: anywhere; }
.lineage { flex-direction: column; align-items: stretch; }
.lineage li { flex-direction: column; align-items: stretch; }
.lineage .node { gap: 4px; }
.lineage .node-row { flex-wrap: wrap; }
.lineage .node-row .id, .lineage .node-error, .lineage .decision { overflow-wrap: anywhere; min-width: 0; }
.lineage .node-error .code { font-family: var(--mono); font-weight: 650; color: var(--red-fg); }
.lineage .node-time { color: var(--muted); font-size: 0.9rem; }
.lineage .link { display: flex; gap: 8px; align-items: baseline; min-width: 0; margin: 0;
  padding: 5px 0 5px 14px; color: var(--muted); font-size: 0.9rem; }
.lineage .link a { color: var(--link); font-family: inherit; font-size: inherit; }
.grid .error-text { overflow-wrap: anywhere; }

/*
 * A retry batch's contents: the preview's counts per error code (a small table beside the
 * count), its jobs with their approval checkboxes, the failure windows of a filter too large for
 * one batch, and on the batch page the jobs it created by status, laid out as the intents'
 * counts are.
 */
table.code-counts { width: auto; min-width: 220px; margin: 0 0 12px; }
.preview-jobs td:first-child input[type="checkbox"] { width: 16px; height: 16px; margin: 2px 0 0; }
.preview-jobs .wrap { overflow-wrap: anywhere; }
table.failure-windows { margin: 0 0 10px; }
dl.outcomes { display: flex; gap: 10px; margin: 0 0 10px; flex-wrap: wrap; }
dl.outcomes > div { display: grid; gap: 4px; justify-items: start; padding: 8px 12px; min-width: 110px;
  border: 1px solid var(--border); border-radius: 6px; background: var(--surface-2); }
dl.outcomes dt { margin: 0; }
dl.outcomes dd { margin: 0; font-size: 1.4rem; font-weight: 650; font-variant-numeric: tabular-nums; }

/*
 * What needs a decision, found and filtered: the jobs list's filter row under its tabs and the
 * sentence saying which filter its counts are for, the search by id beside the page's title,
 * and the refusal a form shows beside itself, which the page focuses when it comes back.
 */
.list-filters { margin: 0 0 6px; }
.list-filters select { max-width: 16rem; }
.counts-for { margin: 0 0 12px; font-size: 0.9rem; }
search { display: block; }
.id-search { display: flex; gap: 6px 8px; align-items: center; flex-wrap: wrap; margin: 0; max-width: 380px; }
.id-search label { font-weight: 550; font-size: 0.92rem; }
.id-search input { flex: 1 1 12rem; min-width: 0; font-family: var(--mono); }
.id-search .hint { flex-basis: 100%; }
.form-refusal { margin: 0 0 12px; scroll-margin-top: 16px; }
.form-refusal:focus { outline: 2px solid var(--focus); outline-offset: 3px; border-radius: 5px; }
.form-refusal .notice { margin: 0; }
`;

/** A short content hash for the stylesheet's URL, so it can be cached for good and still change. */
export const STYLESHEET_VERSION = (() => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < STYLESHEET.length; i++) {
    hash ^= STYLESHEET.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
})();
