/**
 * The dimensions every query can filter and group by (design.md, "Query capabilities"), and the
 * run states. One definition, used by the server, the plugin's editors, dashboards and alert rules.
 */

export const DIMENSIONS = [
  'agent',
  'agentVersion',
  'tool',
  'model',
  'provider',
  'status',
  'channel',
  'environment',
  'service',
  'conversation',
  'user',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const RUN_STATUSES = ['running', 'completed', 'failed', 'timed_out'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const CHANNELS = ['text', 'voice', 'video'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Human labels for editors and frame field names. */
export const DIMENSION_LABELS: Record<Dimension, string> = {
  agent: 'Agent',
  agentVersion: 'Agent version',
  tool: 'Tool',
  model: 'Model',
  provider: 'Provider',
  status: 'Status',
  channel: 'Channel',
  environment: 'Environment',
  service: 'Service',
  conversation: 'Conversation',
  user: 'User',
};

/** Values with a closed set: a filter on them must use one of these. */
export const CLOSED_VALUES: Partial<Record<Dimension, readonly string[]>> = {
  status: RUN_STATUSES,
  channel: CHANNELS,
};
