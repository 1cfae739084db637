// A small JSON client for asserting on what an HTTP client sees.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface JsonResponse<T = any> {
	status: number;
	headers: Headers;
	body: T;
}

export async function request<T = any>( // eslint-disable-line @typescript-eslint/no-explicit-any
	url: string,
	init: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
	const headers: Record<string, string> = { ...init.headers };
	let body: string | undefined = init.rawBody;
	if (init.body !== undefined) body = JSON.stringify(init.body);
	if (body !== undefined) headers["content-type"] ??= "application/json";
	const res = await fetch(url, { method: init.method ?? "GET", headers, body });
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
