// Two jest projects: fast unit tests with Pulumi mocks, and end-to-end tests on the lab's hosts.
/** @type {import('jest').Config} */
const common = {
    preset: "ts-jest",
    testEnvironment: "node",
    // plugin/ is the package again, as a Pulumi plugin (its package.json has the same name): the
    // tests read it as files, never as modules.
    modulePathIgnorePatterns: ["<rootDir>/plugin/"],
};
module.exports = {
    // After jest's own report, a short one of what failed and why (test/failureSummary.js), and for
    // end-to-end runs each file's time (test/fileTimes.js).
    reporters: ["default", "<rootDir>/test/failureSummary.js", "<rootDir>/test/fileTimes.js"],
    projects: [
        {
            ...common,
            displayName: "unit",
            // Each component's tests beside it; the program's and the package's in test/unit.
            testMatch: ["<rootDir>/components/**/*.test.ts", "<rootDir>/test/unit/**/*.test.ts"],
            // examples/consumer imports the package by name: resolve it to what package.json exports,
            // the built JavaScript (npm run build), as a program that installed it would.
            moduleNameMapper: {
                "^swarm-ha$": `<rootDir>/${require("./package.json").exports["."].default}`,
            },
        },
        { ...common, displayName: "e2e", testMatch: ["<rootDir>/test/e2e/**/*.test.ts"] },
    ],
};
