// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const baseConfig = require('./.config/jest.config');
const { grafanaESModules, nodeModulesToTransform } = require('./.config/jest/utils');

// ESM-only packages that @grafana/* 13 pulls in beyond the scaffold's list (see docs/grafana-versions.md).
const grafana13ESModules = ['@react-hookz/web', '@ver0/deep-equal'];

// The scaffold's transform only matches .js/.ts(x); @grafana/data 13 pulls in ESM-only packages shipped
// as .mjs (d3-interpolate 3, d3-color 3, ...), so .mjs files get the same SWC transform.
const [[, swcTransform]] = Object.entries(baseConfig.transform);

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...baseConfig,
  transform: {
    ...baseConfig.transform,
    '^.+\\.mjs$': swcTransform,
  },
  transformIgnorePatterns: [nodeModulesToTransform([...grafanaESModules, ...grafana13ESModules])],
  // The query model workspace is used from its TypeScript sources (as webpack and tsc do), so tests
  // need no prior `npm run build -w @agent-insights/model`.
  moduleNameMapper: {
    ...baseConfig.moduleNameMapper,
    '^@agent-insights/model$': '<rootDir>/model/src/index.ts',
  },
  // Plugin frontend tests live in src/, the provisioned dashboards' checks in dashboards/; the
  // server/ and model/ workspaces run their own jest.
  roots: ['<rootDir>/src', '<rootDir>/dashboards'],
  testMatch: [...baseConfig.testMatch, '<rootDir>/dashboards/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/server/', '<rootDir>/model/', '<rootDir>/dist/'],
};
