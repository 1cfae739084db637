// The event a database service broadcasts after its data changed and its own
// cache entries were cleared (mixins/db.mixin.ts): every node that keeps
// copies of the service's answers (the gateway's page cache) drops them.
export function cacheCleanEvent(service: string): string {
	return `cache.clean.${service}`;
}
