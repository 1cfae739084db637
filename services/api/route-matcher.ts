// Which route a request names, worked out before anything else runs, so the
// gateway can refuse what no route serves without entering moleculer-web.
// Built from the gateway's own moleculer-web routes and matches as their
// aliases do: one trailing slash ignored, literal segments case-insensitive,
// a `:param` any one non-empty segment.

/** A moleculer-web route as the gateway declares it. */
export interface GatewayRoute {
	path: string;
	/** `METHOD path` -> action name. */
	aliases: Record<string, string>;
	/** Whether the route authenticates callers (and is rate limited): /api. */
	authentication?: boolean;
}

export interface MatchedRoute {
	action: string;
	/** On an authenticated, rate-limited route. */
	api: boolean;
}

interface CompiledAlias extends MatchedRoute {
	/** Lower-cased literal segments, or null where a `:param` takes any segment. */
	segments: Array<string | null>;
}

export class RouteMatcher {
	/** By method, then by number of segments: a request is compared with few aliases. */
	private readonly byMethod = new Map<string, Map<number, CompiledAlias[]>>();

	constructor(routes: GatewayRoute[]) {
		for (const route of routes) {
			for (const [alias, action] of Object.entries(route.aliases)) {
				const [method, aliasPath] = alias.split(" ");
				const segments = splitPath(`${route.path}/${aliasPath.replace(/^\//, "")}`).map(segment =>
					segment.startsWith(":") ? null : segment.toLowerCase(),
				);
				const bySize = this.byMethod.get(method) ?? new Map<number, CompiledAlias[]>();
				this.byMethod.set(method, bySize);
				bySize.set(segments.length, [...(bySize.get(segments.length) ?? []), { action, api: Boolean(route.authentication), segments }]);
			}
		}
	}

	/** The route `method url` names (the query string is ignored), if any. */
	match(method: string | undefined, url: string | undefined): MatchedRoute | undefined {
		const query = url?.indexOf("?") ?? -1;
		const segments = splitPath(query >= 0 ? url!.slice(0, query) : (url ?? ""));
		const candidates = this.byMethod.get(method ?? "")?.get(segments.length);
		return candidates?.find(candidate =>
			candidate.segments.every((literal, i) => (literal === null ? segments[i].length > 0 : literal === segments[i].toLowerCase())),
		);
	}
}

/** "/api/products/" -> ["api", "products"]; "/docs/" -> ["docs"]. An empty segment ("//") stays, and matches nothing. */
function splitPath(path: string): string[] {
	const trimmed = path.replace(/^\//, "").replace(/\/$/, "");
	return trimmed === "" ? [] : trimmed.split("/");
}
