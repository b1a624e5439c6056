import { test } from '@grafana/plugin-e2e';

import { skipWithoutGrafana } from './grafana';

skipWithoutGrafana();

// Signs in through Grafana's API once and stores the session (playwright/.auth/admin.json) for the specs.
test('sign in to Grafana', async ({ login }) => {
  await login();
});
