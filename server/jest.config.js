/** Jest for the server: TypeScript through ts-jest, tests beside the code they test. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 60000,
};
