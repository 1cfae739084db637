// Three layers, one command (`npm test`): unit (a broker per service),
// integration (the whole app in one broker, HTTP through the gateway) and
// cluster (real node processes over NATS, Redis and a MongoDB server).
const transform = { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", isolatedModules: true }] };

const layer = (name, timeout) => ({
	displayName: name,
	testEnvironment: "node",
	transform,
	testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
	setupFilesAfterEnv: ["<rootDir>/test/support/setup-timeout.ts"],
	globals: { TEST_TIMEOUT_MS: timeout },
});

module.exports = {
	globalSetup: "<rootDir>/test/support/global-setup.ts",
	projects: [layer("unit", 30_000), layer("integration", 60_000), layer("cluster", 120_000)],
};
