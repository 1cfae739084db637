// The layout's one rule: a service is a folder, and no service's code imports
// another service's folder (services talk through calls, channels and events;
// what several share lives in lib/). The gateway reads the other services'
// params and access from the registry, not from their modules.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const SERVICES = path.join(__dirname, "../../services");

function sources(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap(entry =>
		entry.isDirectory() ? sources(path.join(dir, entry.name)) : entry.name.endsWith(".ts") ? [path.join(dir, entry.name)] : [],
	);
}

describe("the services' layout", () => {
	const services = readdirSync(SERVICES);

	it("gives every service a folder with its schema in <name>.service.ts", () => {
		expect(services.length).toBeGreaterThanOrEqual(10);
		for (const name of services) expect(readdirSync(path.join(SERVICES, name))).toContain(`${name}.service.ts`);
	});

	it.each(readdirSync(SERVICES))("keeps %s from importing another service's code", name => {
		for (const file of sources(path.join(SERVICES, name))) {
			const specifiers = [...readFileSync(file, "utf8").matchAll(/(?:from|require\()\s*"(\.[^"]+)"/g)].map(match => match[1]);
			for (const specifier of specifiers) {
				const target = path.relative(SERVICES, path.resolve(path.dirname(file), specifier));
				const owner = target.startsWith("..") ? undefined : target.split(path.sep)[0];
				expect({ file: path.relative(SERVICES, file), imports: owner ?? name }).toEqual({ file: path.relative(SERVICES, file), imports: name });
			}
		}
	});
});
