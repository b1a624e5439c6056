/**
 * For the plugin host test (host_test.go): seeds the hand-checked test dataset
 * (server/src/test-support/dataset.ts) into a running server through its real receivers, and
 * prints what the test needs to know as one JSON line: the dataset's times, a run id, every query
 * type of the query model and those the server's query engine answers today.
 *
 *   cd server && node --import tsx ../tests/host/seed.ts <server url> <ingest key>
 *
 * (Run from server/ so that tsx resolves the query model through server/tsconfig.json.)
 */
import { QUERY_TYPES } from '@agent-insights/model';
import { CAPABILITIES } from '../../server/src/query/capabilities';
import { runIdOf, seedDataset } from '../../server/src/test-support/dataset';

async function main(): Promise<void> {
  const [url, key] = process.argv.slice(2);
  if (!url || !key) throw new Error('usage: seed.ts <server url> <ingest key>');
  const { anchor, now } = await seedDataset(url, key);
  const out = { anchor, now, runId: runIdOf(1), queryTypes: QUERY_TYPES, available: Object.keys(CAPABILITIES) };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
