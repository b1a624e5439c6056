/**
 * The runs table: newest first, with a limit; durations run up to now while a run runs; findable
 * by run id, conversation or user.
 */
import { ResolvedQuery } from '@agent-insights/model';
import { Capability, QueryEnv } from '../context';
import { Dialect } from '../dialect';
import { field, frame } from '../frame';
import { Params, runConditions } from '../filters-sql';
import { withComputedRunCost } from './llm-usage';

export const runsColumns = (d: Dialect): string => `r.run_id, r.trace_id, r.agent, r.agent_version, r.status, r.environment, r.channel, r.conversation_id, r.user_id,
  ${d.epochMs('r.start_time')}::DOUBLE AS start_ms, r.duration_ms, r.tool_calls, r.llm_calls, r.total_tokens, r.input_tokens, r.output_tokens,
  r.cost, r.error_type, r.error_message, r.models`;

export async function selectRuns(q: ResolvedQuery, env: QueryEnv, extra: { limit: number }) {
  const p = new Params(env.dialect);
  const tenant = p.add(env.tenant);
  const where = [`r.tenant = ${tenant}`, `r.start_time >= ${env.dialect.timestamp(q.range.from)}`, `r.start_time <= ${env.dialect.timestamp(q.range.to)}`, ...runConditions(q.filters, p, tenant)];
  if (q.options.search) {
    const s = p.add(q.options.search);
    where.push(`(r.run_id = ${s} OR r.trace_id = ${s} OR r.conversation_id = ${s} OR r.user_id = ${s})`);
  }
  const order = `ORDER BY r.start_time DESC, r.run_id LIMIT ${extra.limit}`;
  if ((['tool', 'model', 'provider'] as const).some((dim) => q.filters[dim]?.length)) {
    // A step-dimension filter is a semi join with the spans; over the runs' id alone it stays narrow,
    // where with every column of the table the engine builds its hash table on the runs, columns
    // and all (runs by tool over 30 days at 10 million spans: 250-360 ms against 390-890 ms).
    return env.store.read(
      `SELECT ${runsColumns(env.dialect)} FROM runs_v r
       WHERE r.tenant = ${tenant} AND r.run_id IN (SELECT r.run_id FROM runs_v r WHERE ${where.join(' AND ')} ${order}) ${order}`,
      p.values,
    );
  }
  return env.store.read(`SELECT ${runsColumns(env.dialect)} FROM runs_v r WHERE ${where.join(' AND ')} ${order}`, p.values);
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
