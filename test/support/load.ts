// Steady client load for the fault and scaling tests: a few concurrent
// clients sending requests back to back, every answer recorded.
export interface Answer {
	status: number;
	ms: number;
	at: number;
	body: string;
}

export interface Load {
	answers: Answer[];
	/** Stops sending; resolves once every request in flight has its answer. */
	stop(): Promise<Answer[]>;
}

/**
 * `request(i)` makes the i-th request; a network failure is recorded as status 0.
 * With `backoffMs`, a client whose request failed (a 5xx or no answer) waits that
 * long before its next, as a real client would, instead of hammering a cluster that
 * answers at once that it cannot serve.
 */
export function startLoad(request: (i: number) => Promise<Response>, clients = 6, backoffMs = 0): Load {
	const answers: Answer[] = [];
	let running = true;
	let sent = 0;
	const client = async () => {
		while (running) {
			const started = Date.now();
			const answer = await request(sent++).then(
				async res => ({ status: res.status, body: await res.text() }),
				(err: Error) => ({ status: 0, body: err.message }),
			);
			answers.push({ ...answer, ms: Date.now() - started, at: started });
			if (backoffMs > 0 && (answer.status === 0 || answer.status >= 500)) await new Promise(resolve => setTimeout(resolve, backoffMs));
		}
	};
	const clientsDone = Promise.all(Array.from({ length: clients }, client));
	return {
		answers,
		async stop() {
			running = false;
			await clientsDone;
			return answers;
		},
	};
}

/** The answers that were not `ok`, summarised for a failing expectation. */
export function failures(answers: Answer[], ok = (a: Answer) => a.status === 200): string[] {
	return answers.filter(a => !ok(a)).map(a => `${a.status} after ${a.ms} ms: ${a.body.slice(0, 160)}`);
}
