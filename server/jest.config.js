/** Jest for the server: TypeScript through ts-jest, tests beside the code they test. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 60000,
  // The query model is read from its sources, so tests need no build of the workspace first.
  moduleNameMapper: { '^@agent-insights/model$': '<rootDir>/../model/src' },
};
