/**
 * The administrator's one style sheet, served as a file (`/static/admin.css`) so that the
 * Content-Security-Policy needs no `unsafe-inline`.
 *
 * @module admin/style
 */

/** The CSS text. */
export const ADMIN_CSS = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee7; --bg: #f5f7fa; --card: #fff; --accent: #1f5fbf;
  --ok: #17803d; --warn: #a86200; --bad: #b42318; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font-size: 15px; line-height: 1.45; }
header { background: #17202f; color: #fff; padding: 0 24px; display: flex; align-items: center; gap: 24px; height: 52px; }
header .brand { font-weight: 650; letter-spacing: .02em; }
header nav { display: flex; gap: 18px; flex: 1; }
header a { color: #cfd8e6; text-decoration: none; }
header a:hover { color: #fff; }
header form { margin: 0; }
header .user { color: #9fb0c8; font-size: 13px; }
main { max-width: 1120px; margin: 24px auto; padding: 0 24px; }
h1 { font-size: 22px; margin: 0 0 16px; }
h2 { font-size: 17px; margin: 0 0 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px; margin-bottom: 18px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
tr:last-child td { border-bottom: 0; }
a { color: var(--accent); }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #0f1724; color: #e4e9f2; padding: 14px; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
.badge.ok { background: #e3f4e8; } .badge.warn { background: #fff1dc; } .badge.bad { background: #fde7e5; }
.flash { border-left: 4px solid var(--accent); background: #e9f0fb; padding: 10px 14px; margin-bottom: 14px; border-radius: 4px; }
.error { border-left: 4px solid var(--bad); background: #fde7e5; padding: 10px 14px; margin-bottom: 14px; border-radius: 4px; }
.advice { color: var(--muted); font-size: 13px; margin: 2px 0 0; }
form.stack label { display: block; font-weight: 600; margin-top: 12px; }
input[type=text], input[type=email], input[type=password], textarea, select { width: 100%; max-width: 560px;
  padding: 7px 9px; border: 1px solid #b9c2d0; border-radius: 5px; font: inherit; background: #fff; }
textarea { min-height: 110px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 5px; padding: 8px 16px; font: inherit; font-weight: 600; cursor: pointer; }
button.secondary { background: #e6eaf0; color: var(--fg); }
button.link { background: none; color: #cfd8e6; padding: 0; font-weight: 400; }
.actions { display: flex; gap: 10px; margin-top: 16px; flex-wrap: wrap; align-items: center; }
.grid { display: grid; grid-template-columns: 180px 1fr; gap: 6px 16px; }
.grid dt { color: var(--muted); } .grid dd { margin: 0; }
.login { max-width: 380px; margin: 80px auto; }
.inline { display: inline; margin: 0; }
.muted { color: var(--muted); }
.spaced { margin-top: 18px; }
`;
