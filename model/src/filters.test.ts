import { parseFilters, ValidationError } from './filters';

describe('parseFilters', () => {
  it('keeps multi-valued filters and removes duplicates', () => {
    expect(parseFilters({ agent: ['support', 'billing', 'support'], status: 'failed' })).toEqual({ agent: ['support', 'billing'], status: ['failed'] });
  });

  it('"All" and empty lists mean no filter', () => {
    expect(parseFilters({ agent: ['$__all'], tool: [], model: null, environment: ['All'] })).toEqual({});
  });

  it('names the unknown dimension and the allowed ones', () => {
    expect(() => parseFilters({ agnet: ['x'] })).toThrow('filters.agnet: unknown dimension; allowed: agent, agentVersion, tool, model, provider, status, channel, environment, service, conversation, user');
  });

  it('names bad values of closed dimensions and the allowed values', () => {
    expect(() => parseFilters({ status: ['done', 'failed'] })).toThrow('filters.status: unknown value(s) "done"; allowed: running, completed, failed, timed_out');
    expect(() => parseFilters({ channel: ['fax'] })).toThrow(ValidationError);
  });

  it('rejects values that are not strings with their position', () => {
    expect(() => parseFilters({ agent: ['a', { x: 1 }] })).toThrow('filters.agent[1]: must be a string');
    expect(() => parseFilters([1])).toThrow('filters: must be an object');
  });
});
