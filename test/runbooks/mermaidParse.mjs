// Parses mermaid diagrams with mermaid's own parser, the one GitHub and the docs site render with.
//
// Input on stdin: JSON [{ "id": string, "text": string }]. Output on stdout: JSON
// [{ "id", "ok": true, "type" } | { "id", "ok": false, "error" }].
//
// Run as its own Node process because mermaid ships only as ES modules, which Jest's CommonJS runtime cannot
// load. mermaid.parse needs no layout or rendering, but mermaid sanitises labels with DOMPurify while parsing,
// and DOMPurify only works against a DOM: jsdom provides one.
import { JSDOM } from 'jsdom';

const { window } = new JSDOM('');
globalThis.window = window;
globalThis.document = window.document;

const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

let input = '';
for await (const chunk of process.stdin) input += chunk;
const diagrams = JSON.parse(input);

const results = [];
for (const { id, text } of diagrams) {
  try {
    const parsed = await mermaid.parse(text);
    results.push({ id, ok: true, type: parsed.diagramType });
  } catch (err) {
    results.push({ id, ok: false, error: String(err?.message ?? err) });
  }
}
process.stdout.write(JSON.stringify(results));
