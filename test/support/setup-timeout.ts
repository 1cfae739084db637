// Each layer sets its own per-test timeout (jest.config.js globals).
jest.setTimeout((globalThis as unknown as { TEST_TIMEOUT_MS: number }).TEST_TIMEOUT_MS);
