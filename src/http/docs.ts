/**
 * A self-contained API reference rendered in the browser from /openapi.json; it loads nothing from elsewhere.
 * Its style and script are files of their own (/docs/docs.css, /docs/docs.js): the page's Content-Security-Policy
 * allows no inline script.
 */
export function docsPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tether API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/docs.css">
<script src="/docs/docs.js" defer></script>
</head>
<body><header><strong>tether API v1</strong> · <a href="/openapi.json">openapi.json</a> · Authorization: Bearer &lt;token&gt;</header>
<main id="root">Loading…</main>
</body></html>`;
}

export const DOCS_STYLE = `body{font:14px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:16px 24px}header a{color:#9cc3ff}
main{max-width:1000px;margin:0 auto;padding:16px 24px}
h2{margin-top:32px;border-bottom:1px solid #d5d9e0;padding-bottom:4px;text-transform:capitalize}
details{background:#fff;border:1px solid #d5d9e0;border-radius:6px;margin:8px 0}
summary{cursor:pointer;padding:8px 12px;font-family:ui-monospace,monospace}
.m{display:inline-block;min-width:64px;font-weight:700}.get{color:#0a7}.post{color:#06c}.put,.patch{color:#a60}.delete{color:#c33}
pre{background:#f0f2f5;padding:8px;overflow:auto;margin:0 12px 12px;border-radius:4px;font-size:12px}
p.d{margin:4px 12px 8px;white-space:pre-wrap}
p.intro{white-space:pre-wrap;background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:12px}
.roles{float:right;color:#556;font-family:system-ui,sans-serif;font-size:12px}
table{border-collapse:collapse;background:#fff;margin:4px 0 16px}td{border:1px solid #d5d9e0;padding:4px 8px;vertical-align:top}
td.v{font-family:ui-monospace,monospace;white-space:nowrap}
`;

/**
 * Builds the page from the document with textContent only (no HTML from the document is ever parsed): each
 * operation with the roles it admits, then the enumerations as tables, then every schema.
 */
export const DOCS_SCRIPT = `const el=(tag,cls,text)=>{const e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined)e.textContent=text;return e;};
fetch("/openapi.json").then(r=>r.json()).then(doc=>{
  const root=document.getElementById("root"); root.textContent="";
  root.appendChild(el("p","intro",doc.info.description||""));
  const about=Object.fromEntries((doc.tags||[]).map(t=>[t.name,t.description]));
  const byTag={};
  for(const [path,ops] of Object.entries(doc.paths)) for(const [method,op] of Object.entries(ops)){
    const tag=(op.tags&&op.tags[0])||"other"; (byTag[tag]??=[]).push({path,method,op});
  }
  for(const [tag,ops] of Object.entries(byTag)){
    root.appendChild(el("h2",null,tag));
    if(about[tag]) root.appendChild(el("p","d",about[tag]));
    for(const {path,method,op} of ops){
      const d=el("details"), s=el("summary");
      s.appendChild(el("span","m "+method,method.toUpperCase()));
      s.appendChild(el("span",null," "+path+" — "+(op.summary||"")));
      const roles=op["x-tether-roles"];
      s.appendChild(el("span","roles",roles?roles.join(" · "):"no token"));
      d.appendChild(s);
      if(op.description) d.appendChild(el("p","d",op.description));
      if(op.parameters) d.appendChild(el("pre",null,"parameters: "+JSON.stringify(op.parameters.map(p=>p.in+" "+p.name+(p.required?" (required)":"")),null,1)));
      const body=op.requestBody?.content?.["application/json"]?.schema;
      if(body) d.appendChild(el("pre",null,"body: "+JSON.stringify(body,null,1)));
      d.appendChild(el("pre",null,"responses: "+Object.keys(op.responses).join(", ")));
      root.appendChild(d);
    }
  }
  const schemas=doc.components?.schemas??{};
  root.appendChild(el("h2",null,"enumerations"));
  for(const [name,schema] of Object.entries(schemas)){
    const lines=schema["x-enum-descriptions"];
    if(!Array.isArray(schema.enum)||!Array.isArray(lines)) continue;
    root.appendChild(el("h3",null,name));
    if(schema.description) root.appendChild(el("p","d",schema.description));
    const table=el("table");
    schema.enum.forEach((value,i)=>{const tr=el("tr"); tr.appendChild(el("td","v",value)); tr.appendChild(el("td",null,lines[i])); table.appendChild(tr);});
    root.appendChild(table);
  }
  root.appendChild(el("h2",null,"schemas"));
  root.appendChild(el("pre",null,JSON.stringify(schemas,null,1)));
});
`;
