// A background sweep: runs `task` every `ms`, never keeps the process alive,
// and reports a failed run instead of crashing. Returns the function that stops it.
export function runEvery(ms: number, task: () => Promise<unknown>, onError: (err: Error) => void): () => void {
	const timer = setInterval(() => {
		task().catch(onError);
	}, ms);
	timer.unref();
	return () => clearInterval(timer);
}
