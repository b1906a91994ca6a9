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
p.d{margin:4px 12px 8px}
`;

export const DOCS_SCRIPT = `fetch("/openapi.json").then(r=>r.json()).then(doc=>{
  const byTag={};
  for(const [path,ops] of Object.entries(doc.paths)) for(const [method,op] of Object.entries(ops)){
    const tag=(op.tags&&op.tags[0])||"other"; (byTag[tag]??=[]).push({path,method,op});
  }
  const esc=s=>String(s).replace(/[&<>]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;"}[c]));
  const root=document.getElementById("root"); root.textContent="";
  for(const [tag,ops] of Object.entries(byTag)){
    const h=document.createElement("h2"); h.textContent=tag; root.appendChild(h);
    for(const {path,method,op} of ops){
      const d=document.createElement("details");
      const body=op.requestBody?.content?.["application/json"]?.schema;
      d.innerHTML='<summary><span class="m '+method+'">'+method.toUpperCase()+'</span> '+esc(path)+' — '+esc(op.summary||"")+'</summary>'
        +(op.description?'<p class="d">'+esc(op.description)+'</p>':"")
        +(op.parameters?'<pre>parameters: '+esc(JSON.stringify(op.parameters.map(p=>p.in+" "+p.name+(p.required?" (required)":"")),null,1))+'</pre>':"")
        +(body?'<pre>body: '+esc(JSON.stringify(body,null,1))+'</pre>':"")
        +'<pre>responses: '+esc(Object.keys(op.responses).join(", "))+'</pre>';
      root.appendChild(d);
    }
  }
  const s=document.createElement("h2"); s.textContent="schemas"; root.appendChild(s);
  const pre=document.createElement("pre"); pre.textContent=JSON.stringify(doc.components?.schemas??{},null,1); root.appendChild(pre);
});
`;
