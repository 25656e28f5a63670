// ESLint: typescript-eslint's recommended rules plus Pulumi's rules against Outputs in template
// literals (they need type information, hence the project service).
const tseslint = require("typescript-eslint");
const pulumi = require("@pulumi/eslint-plugin");

module.exports = tseslint.config(
    {
        ignores: [
            "bin/**",
            "node_modules/**",
            "examples/*/bin/**",
            "examples/*/node_modules/**",
            // CommonJS that node loads as is: the configs, and jest's reporter.
            "*.js",
            "test/*.js",
        ],
    },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: __dirname },
        },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
);
