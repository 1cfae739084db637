// The REPL's own commands for daily work (README, "The REPL"). They ask the
// cluster through actions that already exist: `$node.*`, which every Moleculer
// node hosts, and the services' own actions, so a REPL attached to any
// cluster sees what its nodes see and changes data only the way services do.
import type { ReplOptions, ServiceBroker } from "moleculer";
import { checkConsistency, type Call } from "./consistency";
import { readEnv } from "../platform/env";
import { nodesHealth, printHealth } from "./node-health";
import { breakerViews, printBreakers } from "./breakers";
import { DEMO_UNITS, printSeed, seedDemoData } from "./demo-seed";
import { errorText, print, type ReplArgs, type ReplHelpers } from "./repl-output";

interface ReplCommand {
	command: string;
	description: string;
	options?: { option: string; description: string }[];
	action(broker: ServiceBroker, args: ReplArgs, helpers: ReplHelpers): Promise<void>;
}

const callOf =
	(broker: ServiceBroker): Call =>
	(action, params) =>
		broker.call(action, params);

const json = { option: "--json", description: "Print JSON instead of a table" };

/** A failing command prints one line, not the stack trace moleculer-repl would log. */
function reporting(command: ReplCommand): ReplCommand {
	return {
		...command,
		async action(broker, args, helpers) {
			try {
				await command.action(broker, args, helpers);
			} catch (err) {
				console.log(helpers.kleur.red(`>> ERROR: ${errorText(err)}`));
			}
		},
	};
}

/** A command that gathers a report and prints it as a table, or as JSON with --json. */
function reportCommand<T>(
	command: string,
	description: string,
	gather: (broker: ServiceBroker) => Promise<T>,
	printTable: (report: T, helpers: ReplHelpers) => void,
	allowed: (helpers: ReplHelpers) => boolean = () => true,
): ReplCommand {
	return {
		command,
		description,
		options: [json],
		async action(broker, args, helpers) {
			if (!allowed(helpers)) return;
			const report = await gather(broker);
			if (args.options.json) print(report);
			else printTable(report, helpers);
		},
	};
}

export function replCommands(): NonNullable<ReplOptions["customCommands"]> {
	const commands: ReplCommand[] = [
		{
			command: "consistency",
			description: 'Check the invariants of docs/architecture.md ("Invariants") across the cluster',
			async action(broker) {
				print(await checkConsistency(callOf(broker)));
			},
		},
		reportCommand("health", "Every node: state, host, pid, services, CPU, memory and uptime ($node.health asked on each node)", nodesHealth, printHealth),
		reportCommand(
			"breakers",
			"Circuit breakers as every node sees the endpoints it calls; failure counts for this REPL node's own calls",
			breakerViews,
			printBreakers,
		),
		reportCommand(
			"seed",
			`Add the demo catalog products that are missing (by SKU) and ${DEMO_UNITS} units of stock to products without stock; idempotent, refused when NODE_ENV=production`,
			broker => seedDemoData(callOf(broker)),
			printSeed,
			helpers => {
				if (readEnv().nodeEnv !== "production") return true;
				console.log(helpers.kleur.red(">> seed adds demo data: not with NODE_ENV=production"));
				return false;
			},
		),
	];
	// moleculer's typings declare `args` as string[]; moleculer-repl passes { options, rawCommand }.
	return commands.map(reporting) as unknown as NonNullable<ReplOptions["customCommands"]>;
}
