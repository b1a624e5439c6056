/**
 * Tokens and cost of one span, from whichever names its convention uses. Within one span the
 * newest name wins and a total is never added to its parts (design.md, "Tokens and cost").
 */
import { Attributes } from '../ingest/otlp/types';
import { num } from './attributes';

export interface Usage {
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  totalTokens: number | null;
  cost: number | null;
}

export function usageOf(a: Attributes): Usage {
  const inputTokens = num(a, 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt', 'ai.usage.inputTokens', 'ai.usage.promptTokens');
  const outputTokens = num(a, 'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion', 'ai.usage.outputTokens', 'ai.usage.completionTokens');
  const cachedTokens = num(
    a,
    'gen_ai.usage.cache_read.input_tokens',
    'gen_ai.usage.cache_read_input_tokens',
    'llm.token_count.prompt_details.cache_read',
    'ai.usage.cachedInputTokens',
  );
  const cacheWriteTokens = num(
    a,
    'gen_ai.usage.cache_write.input_tokens',
    'gen_ai.usage.cache_creation.input_tokens',
    'gen_ai.usage.cache_creation_input_tokens',
    'llm.token_count.prompt_details.cache_write',
  );
  const reasoningTokens = num(a, 'gen_ai.usage.reasoning.output_tokens', 'llm.token_count.completion_details.reasoning', 'ai.usage.reasoningTokens');
  let totalTokens = num(a, 'gen_ai.usage.total_tokens', 'llm.token_count.total', 'llm.usage.total_tokens', 'ai.usage.totalTokens');
  if (totalTokens === null && (inputTokens !== null || outputTokens !== null)) totalTokens = (inputTokens ?? 0) + (outputTokens ?? 0);

  let cost = num(a, 'llm.cost.total', 'gen_ai.usage.cost');
  if (cost === null) {
    const prompt = num(a, 'llm.cost.prompt');
    const completion = num(a, 'llm.cost.completion');
    if (prompt !== null || completion !== null) cost = (prompt ?? 0) + (completion ?? 0);
  }
  return { inputTokens, outputTokens, cachedTokens, cacheWriteTokens, reasoningTokens, totalTokens, cost };
}

export function hasUsage(u: Usage): boolean {
  return u.inputTokens !== null || u.outputTokens !== null || u.totalTokens !== null;
}
