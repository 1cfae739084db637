// How the REPL's commands print: moleculer-repl's helpers (the `table`
// package and kleur), one table style, and errors as one line.

/** What moleculer-repl hands a custom command (its typings say `string[]`). */
export interface ReplArgs {
	options: Record<string, unknown>;
	rawCommand: string;
}

export type Paint = (text: string) => string;

/** The printing helpers moleculer-repl passes: the `table` package and kleur. */
export interface ReplHelpers {
	table(rows: string[][], config?: Record<string, unknown>): string;
	getBorderCharacters(template: string): Record<string, string>;
	kleur: { bold: Paint; red: Paint; green: Paint; yellow: Paint; gray: Paint };
}

export function table(helpers: Omit<ReplHelpers, "kleur">, rows: string[][]): string {
	return helpers.table(rows, {
		border: helpers.getBorderCharacters("norc"),
		drawHorizontalLine: (index: number, count: number) => index <= 1 || index === count,
	});
}

export function errorText(err: unknown): string {
	const { message, type } = err as { message?: string; type?: string };
	return `${message ?? String(err)}${type ? ` (${type})` : ""}`;
}

export const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));
