import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
	{ ignores: ["dist/", "node_modules/", ".infra/", "data/", "coverage/"] },
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		languageOptions: { globals: { process: "readonly", console: "readonly", module: "writable", require: "readonly" } },
		rules: {
			"@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
			eqeqeq: ["error", "always", { null: "ignore" }],
		},
	},
);
