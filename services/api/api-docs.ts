// The interactive API docs at /docs: Swagger UI (served from our own
// node_modules, so the page works without internet access) pointed at
// /api/openapi.json.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Moleculer shop API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
`;

// The pasted token lives in the page's memory only, not in localStorage where
// it would outlive the tab.
const start = `window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#docs", deepLinking: true });\n`;

export interface DocsFile {
	contentType: string;
	body: string;
	/** Headers of its own, beside those every response carries. */
	headers?: Record<string, string>;
}

// What Swagger UI needs and no more: its script and stylesheet from /docs (the
// page has no inline script), inline style attributes (React sets them), data:
// and blob: images (icons, previews of responses), and requests to this origin
// only (the document and "Try it out"). Nothing may frame the page: it holds
// the bearer token pasted under Authorize.
export const DOCS_CSP = [
	"default-src 'none'",
	"script-src 'self'",
	"style-src 'self' 'unsafe-inline'",
	"img-src 'self' data: blob:",
	"connect-src 'self'",
	"base-uri 'none'",
	"form-action 'none'",
	"frame-ancestors 'none'",
].join("; ");

/** The files the page loads, by the name it asks for. */
const DOCS_FILES = ["swagger-ui.css", "swagger-ui-bundle.js", "start.js"] as const;
export type DocsFileName = (typeof DOCS_FILES)[number];

export function isDocsFile(name: string): name is DocsFileName {
	return (DOCS_FILES as readonly string[]).includes(name);
}

const loaded = new Map<string, DocsFile>();

function swaggerUi(name: string): string {
	return readFileSync(join(dirname(require.resolve("swagger-ui-dist/package.json")), name), "utf8");
}

export function docsPage(): DocsFile {
	return { contentType: "text/html; charset=utf-8", body: page, headers: { "Content-Security-Policy": DOCS_CSP } };
}

export function docsFile(name: DocsFileName): DocsFile {
	let file = loaded.get(name);
	if (!file) {
		file =
			name === "start.js"
				? { contentType: "text/javascript; charset=utf-8", body: start }
				: { contentType: name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8", body: swaggerUi(name) };
		loaded.set(name, file);
	}
	return file;
}
