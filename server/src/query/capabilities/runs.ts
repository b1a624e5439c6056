/**
 * The runs table: newest first, with a limit; durations run up to now while a run runs; findable
 * by run id, conversation or user.
 */
import { ResolvedQuery } from '@agent-insights/model';
import { Capability, QueryEnv } from '../context';
import { Dialect } from '../dialect';
import { field, frame } from '../frame';
import { Params, runConditions, runConditionsReadSpans } from '../filters-sql';
import { withComputedRunCost } from './llm-usage';

export const runsColumns = (d: Dialect): string => `r.run_id, r.trace_id, r.agent, r.agent_version, r.status, r.environment, r.channel, r.conversation_id, r.user_id,
  ${d.epochMs('r.start_time')}::DOUBLE AS start_ms, r.duration_ms, r.tool_calls, r.llm_calls, r.total_tokens, r.input_tokens, r.output_tokens,
  r.cost, r.error_type, r.error_message, r.models`;

export async function selectRuns(q: ResolvedQuery, env: QueryEnv, extra: { limit: number }) {
  const d = env.dialect;
  const p = new Params(d);
  const tenant = p.add(env.tenant);
  const where = [`r.tenant = ${tenant}`, `r.start_time >= ${d.timestamp(q.range.from)}`, `r.start_time <= ${d.timestamp(q.range.to)}`, ...runConditions(q.filters, p, tenant)];
  const order = `ORDER BY r.start_time DESC, r.run_id LIMIT ${extra.limit}`;
  if (q.options.search) {
    // The runs with the value in any of the four columns, looked up one column at a time with no
    // other filter (so DuckDB answers each from its index, migrations.ts version 5), then filtered:
    // 5-30 ms against 60-95 ms for one scan of the four columns over 647 thousand runs.
    const s = p.add(q.options.search);
    const hits = ['run_id', 'trace_id', 'conversation_id', 'user_id'].map((col) => `SELECT * FROM runs_v WHERE ${col} = ${s}`).join(' UNION DISTINCT ');
    return env.store.read(`WITH ${d.materialized('hits', hits)} SELECT ${runsColumns(d)} FROM hits r WHERE ${where.join(' AND ')} ${order}`, p.values);
  }
  if (runConditionsReadSpans(q.filters)) {
    // A filter that reads the spans is a semi join with them; over the runs' id alone it stays narrow,
    // where with every column of the table the engine builds its hash table on the runs, columns
    // and all (runs by tool over 30 days at 10 million spans: 250-360 ms against 390-890 ms).
    return env.store.read(
      `SELECT ${runsColumns(d)} FROM runs_v r
       WHERE r.tenant = ${tenant} AND r.run_id IN (SELECT r.run_id FROM runs_v r WHERE ${where.join(' AND ')} ${order}) ${order}`,
      p.values,
    );
  }
  return env.store.read(`SELECT ${runsColumns(d)} FROM runs_v r WHERE ${where.join(' AND ')} ${order}`, p.values);
}

export const runsTable: Capability = async (q, env) => {
  // Cost: reported by the telemetry, else computed from tokens and the price table (llm-usage.ts).
  const rows = await withComputedRunCost(env, await selectRuns(q, env, { limit: q.options.limit }));
  const col = (k: string) => rows.map((r) => r[k]);
  return [
    frame(
      'runs',
      [
        // The link from a run to its trace needs the data source's uid, which only the plugin knows:
        // the frontend adds it (issue 4).
        field('Run', 'string', col('run_id')),
        field('Agent', 'string', col('agent')),
        field('Status', 'string', col('status')),
        field('Started', 'time', col('start_ms')),
        field('Duration', 'number', col('duration_ms'), { unit: 'ms' }),
        field('Tool calls', 'int', col('tool_calls')),
        field('LLM calls', 'int', col('llm_calls')),
        field('Tokens', 'int', col('total_tokens'), { unit: 'short' }),
        field('Cost', 'number', col('cost'), { unit: 'currencyUSD', decimals: 4 }),
        field('Error', 'string', col('error_type')),
        field('Error message', 'string', col('error_message')),
        field('Agent version', 'string', col('agent_version')),
        field('Environment', 'string', col('environment')),
        field('Channel', 'string', col('channel')),
        field('Conversation', 'string', col('conversation_id')),
        field('User', 'string', col('user_id')),
        field('Models', 'string', col('models')),
        field('Trace ID', 'string', col('trace_id')),
      ],
      { preferredVisualisationType: 'table' },
    ),
  ];
};
