// Asking one node of the cluster something, for the REPL's commands.

// Asking one node must not hold the table up when that node is busy or dying.
export const NODE_CALL = { timeout: 5000, retries: 0 };

/** A node as `$node.list` describes it. */
export interface NodeInfo {
	id: string;
	available: boolean;
	local: boolean;
	hostname?: string | null;
	cpu?: number | null;
	services?: { name: string }[];
}
