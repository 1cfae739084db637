/** Polls `probe` until `ok` holds or the timeout passes; returns the last value either way. */
export async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last = await probe();
	while (!ok(last) && Date.now() < deadline) {
		await new Promise(resolve => setTimeout(resolve, 200));
		last = await probe();
	}
	return last;
}
