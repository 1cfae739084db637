// Requests the gateway answers at its front door (services/api/front-door.ts) never run
// the `api.rest` action, so Moleculer's metrics middleware does not see them.
// They are counted here in the same series and with the labels it would use,
// so dashboards and alerts read one number however a request was answered.
import { METRIC, type MetricRegistry } from "moleculer";

export interface CountedError {
	name: string;
	code: number;
	type?: string;
}

export class FrontDoorMetrics {
	private readonly labels: Record<string, string | null>;

	constructor(
		private readonly metrics: MetricRegistry,
		service: string,
	) {
		// The labels of a request to moleculer-web's `rest` action, which has no caller.
		this.labels = { service, action: `${service}.rest`, type: "local", caller: null };
	}

	/** One request answered, `startedAt` being its performance.now() on arrival. */
	answered(startedAt: number, error?: CountedError): void {
		if (!this.metrics.isEnabled()) return;
		this.metrics.increment(METRIC.MOLECULER_REQUEST_TOTAL, this.labels);
		this.metrics.observe(METRIC.MOLECULER_REQUEST_TIME, performance.now() - startedAt, this.labels);
		if (error) {
			this.metrics.increment(METRIC.MOLECULER_REQUEST_ERROR_TOTAL, {
				...this.labels,
				errorName: error.name,
				errorCode: error.code,
				errorType: error.type ?? null,
			});
		}
	}
}
