import { ContentPolicy } from '../content/policy';
import { OtlpSpan } from '../ingest/otlp/types';
import { normaliseSpan } from './normalise';

const policy = new ContentPolicy({ content: 'full', contentMaxBytes: 16384, attributeMaxBytes: 4096, redactDefaults: true, redactPatterns: [] });

function span(attributes: OtlpSpan['attributes']): OtlpSpan {
  return {
    resource: { 'service.name': 'svc' },
    scope: 'test',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '00f067aa0ba902b7',
    name: 'OpenAI Chat Completions',
    kind: 1,
    startUs: 1_700_000_000_000_000,
    endUs: 1_700_000_001_000_000,
    attributes,
    events: [],
    statusCode: 1,
    statusMessage: '',
  };
}

describe('normaliseSpan: model of an OpenInference LLM span', () => {
  // As @arizeai/openinference-instrumentation-openai 4.2 writes it: llm.model_name starts as the
  // requested model and is overwritten with the model the server answered as.
  const openInference = {
    'openinference.span.kind': 'LLM',
    'llm.model_name': 'gpt-4o-mini-2024-07-18',
    'llm.invocation_parameters': '{"model":"gpt-4o-mini","tools":[]}',
    'llm.token_count.prompt': 120,
  };

  it('is the requested model, from llm.invocation_parameters; the snapshot is the response model', () => {
    const r = normaliseSpan('acme', span(openInference), policy);
    expect(r.role).toBe('llm');
    expect([r.model, r.responseModel]).toEqual(['gpt-4o-mini', 'gpt-4o-mini-2024-07-18']);
  });

  it('falls back to llm.model_name without invocation parameters naming a model', () => {
    for (const params of [undefined, '{"temperature":0.2}', 'not json "model"']) {
      const attributes: OtlpSpan['attributes'] = { ...openInference };
      if (params === undefined) delete attributes['llm.invocation_parameters'];
      else attributes['llm.invocation_parameters'] = params;
      const r = normaliseSpan('acme', span(attributes), policy);
      expect([r.model, r.responseModel]).toEqual(['gpt-4o-mini-2024-07-18', '']);
    }
  });

  it('leaves gen_ai.request.model first', () => {
    const r = normaliseSpan('acme', span({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o-2024-08-06' }), policy);
    expect([r.model, r.responseModel]).toEqual(['gpt-4o', 'gpt-4o-2024-08-06']);
  });
});
