import React, { useState } from 'react';
import { configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { dateTime } from '@grafana/data';
import { setTemplateSrv } from '@grafana/runtime';
import { defaultQuery } from '@agent-insights/model';

import { QueryEditor } from './QueryEditor';
import type { DataSource } from '../datasource';
import type { AgentQuery } from '../types';
import { mockLayout } from '../test/layout';
import { FakeTemplateSrv } from '../test/templateSrv';

const range = {
  from: dateTime(1_700_000_000_000),
  to: dateTime(1_700_003_600_000),
  raw: { from: 'now-1h', to: 'now' },
};

// Rendering @grafana/ui under jsdom is slow: give each user story time, and skip the
// accessibility-tree visibility checks (getComputedStyle on every node) that make role queries slow.
jest.setTimeout(60_000);
configure({ defaultHidden: true });

beforeAll(mockLayout);

let dimensionValues: jest.Mock;
let onChange: jest.Mock;
let onRunQuery: jest.Mock;

beforeEach(() => {
  setTemplateSrv(
    new FakeTemplateSrv([
      { name: 'agent', value: ['support'] },
      { name: 'metric', value: 'errorRate' },
    ])
  );
  dimensionValues = jest.fn(async (dimension: string) => (dimension === 'agent' ? ['support', 'billing'] : ['gpt-4o']));
  onChange = jest.fn();
  onRunQuery = jest.fn();
});

/** The editor inside a panel that keeps the query it reports, as Grafana does. */
function Panel({ initial }: { initial: AgentQuery }) {
  const [query, setQuery] = useState(initial);
  const datasource = { dimensionValues } as unknown as DataSource;
  return (
    <QueryEditor
      datasource={datasource}
      query={query}
      range={range}
      onChange={(q) => {
        onChange(q);
        setQuery(q);
      }}
      onRunQuery={onRunQuery}
    />
  );
}

function setup(initial: AgentQuery = defaultQuery('A')) {
  const user = userEvent.setup({ delay: null });
  render(<Panel initial={initial} />);
  return user;
}

/**
 * Opens a combobox, types to narrow its options (the list is virtualised) and picks the option with
 * that label (not the "Use custom value" entry comboboxes that take free text add for the typed text).
 */
async function pick(user: ReturnType<typeof userEvent.setup>, combobox: string, option: string) {
  const input = screen.getByRole('combobox', { name: combobox });
  await user.click(input);
  // One change event for the whole text: typing it key by key re-renders the menu for each key.
  fireEvent.change(input, { target: { value: option } });
  const options = await screen.findAllByRole('option', { name: new RegExp(`^${option.replace(/[$]/g, '\\$&')}`) });
  const listed = options.find((o) => !o.textContent?.includes('Use custom value'));
  await user.click(listed ?? options[0]);
}

const lastQuery = (): AgentQuery => onChange.mock.calls[onChange.mock.calls.length - 1][0];

describe('QueryEditor', () => {
  it('shows the runs options for a new query and nothing else', () => {
    setup();
    expect(screen.getByRole('combobox', { name: 'Query type' })).toHaveValue('Runs');
    expect(screen.getByRole('textbox', { name: 'Limit' })).toHaveValue('100');
    expect(screen.getByRole('textbox', { name: 'Search' })).toBeInTheDocument();
    expect(screen.getByRole('switch', { name: 'Live' })).not.toBeChecked();
    expect(screen.getByRole('combobox', { name: 'Add filter' })).toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: 'Run ID' })).not.toBeInTheDocument();
    expect(screen.queryByRole('combobox', { name: 'Metric' })).not.toBeInTheDocument();
  });

  it('switches to a time series: metric and group by appear with the model default, runs options go', async () => {
    const user = setup({ ...defaultQuery('A'), filters: { agent: ['support'] } });
    await pick(user, 'Query type', 'Time series');

    expect(lastQuery()).toEqual({
      refId: 'A',
      queryType: 'timeSeries',
      metric: 'runs',
      filters: { agent: ['support'] },
    });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(screen.getByRole('combobox', { name: 'Metric' })).toHaveValue('Runs');
    expect(screen.getByRole('combobox', { name: 'Group by' })).toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: 'Limit' })).not.toBeInTheDocument();
    expect(screen.queryByRole('switch', { name: 'Live' })).not.toBeInTheDocument();

    await pick(user, 'Metric', 'Error rate');
    await pick(user, 'Group by', 'Agent');
    expect(lastQuery()).toEqual({
      refId: 'A',
      queryType: 'timeSeries',
      metric: 'errorRate',
      groupBy: 'agent',
      filters: { agent: ['support'] },
    });
  });

  it('asks a run trace for its run id only, and runs it once the id is given', async () => {
    const user = setup();
    await pick(user, 'Query type', 'Run trace');

    expect(lastQuery()).toEqual({ refId: 'A', queryType: 'runTrace' });
    expect(onRunQuery).not.toHaveBeenCalled();
    expect(screen.queryByRole('combobox', { name: 'Add filter' })).not.toBeInTheDocument();

    const runId = screen.getByRole('textbox', { name: 'Run ID' });
    await user.type(runId, '$run{Enter}');
    expect(lastQuery()).toEqual({ refId: 'A', queryType: 'runTrace', runId: '$run' });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it.each([
    [
      'Usage heatmap',
      { queryType: 'heatmap', heatmap: 'hourOfDay', heatmapMetric: 'runs', filters: {} },
      ['Heatmap', 'Count'],
      ['Period'],
    ],
    ['Credit forecast', { queryType: 'creditForecast', period: 'day', filters: {} }, ['Period'], ['Metric']],
    ['LLM tokens', { queryType: 'llmTokens', period: 'day', filters: {} }, ['Period'], ['Metric']],
    ['Tool metrics', { queryType: 'toolMetrics', filters: {} }, [], ['Period', 'Metric']],
    ['Voice and video sessions', { queryType: 'sessionStats', filters: {} }, [], ['Period', 'Metric']],
  ])('switches to %s with its own options and defaults', async (label, expected, shown, hidden) => {
    const user = setup();
    await pick(user, 'Query type', label);
    expect(lastQuery()).toEqual({ refId: 'A', ...expected });
    for (const name of shown) {
      expect(screen.getByRole('combobox', { name })).toBeInTheDocument();
    }
    for (const name of hidden) {
      expect(screen.queryByRole('combobox', { name })).not.toBeInTheDocument();
    }
    expect(screen.getByRole('combobox', { name: 'Add filter' })).toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: 'Limit' })).not.toBeInTheDocument();
  });

  it('takes a budget for the credit forecast', async () => {
    setup({ refId: 'A', queryType: 'creditForecast', period: 'month', filters: {} });
    const budget = screen.getByRole('textbox', { name: 'Budget' });
    fireEvent.change(budget, { target: { value: '5000' } });
    fireEvent.blur(budget);
    expect(lastQuery()).toEqual({
      refId: 'A',
      queryType: 'creditForecast',
      period: 'month',
      budget: 5000,
      filters: {},
    });
  });

  it('stores a number as a number and a variable as typed', async () => {
    const user = setup();
    const limit = screen.getByRole('textbox', { name: 'Limit' });
    await user.clear(limit);
    await user.type(limit, '25{Enter}');
    expect(lastQuery().limit).toBe(25);
    await user.clear(limit);
    await user.type(limit, '$limit');
    fireEvent.blur(limit);
    expect(lastQuery().limit).toBe('$limit');
    expect(onRunQuery).toHaveBeenCalledTimes(2);
  });

  it('turns live on for a runs table and takes a search', async () => {
    const user = setup();
    await user.click(screen.getByRole('switch', { name: 'Live' }));
    expect(lastQuery()).toEqual({ ...defaultQuery('A'), live: true });
    await user.type(screen.getByRole('textbox', { name: 'Search' }), 'conv-42{Enter}');
    expect(lastQuery()).toEqual({ ...defaultQuery('A'), live: true, search: 'conv-42' });
  });

  it('accepts a template variable in a select, offered or typed as free text', async () => {
    const user = setup({ refId: 'A', queryType: 'timeSeries', metric: 'runs', filters: {} });
    await pick(user, 'Metric', '$metric');
    expect(lastQuery().metric).toBe('$metric');

    const metric = screen.getByRole('combobox', { name: 'Metric' });
    await user.click(metric);
    fireEvent.change(metric, { target: { value: '${metric:raw}' } });
    await user.click(await screen.findByRole('option', { name: /Use custom value/ }));
    expect(lastQuery().metric).toBe('${metric:raw}');
  });

  it('adds filters with values from the server, dashboard variables and free text', async () => {
    const user = setup();
    await pick(user, 'Add filter', 'Agent');
    expect(lastQuery().filters).toEqual({ agent: [] });

    const agent = await screen.findByRole('combobox', { name: 'Agent' });
    await waitFor(() => expect(dimensionValues).toHaveBeenCalledWith('agent', { range, filters: {} }));
    await user.click(agent);
    await user.click(await screen.findByRole('option', { name: /^billing/ }));
    expect(lastQuery().filters).toEqual({ agent: ['billing'] });
    await user.click(await screen.findByRole('option', { name: /^\$agent/ }));
    expect(lastQuery().filters).toEqual({ agent: ['billing', '$agent'] });
    fireEvent.change(agent, { target: { value: 'triage' } });
    await user.click(await screen.findByRole('option', { name: /Use custom value/ }));
    expect(lastQuery().filters).toEqual({ agent: ['billing', '$agent', 'triage'] });
    expect(onRunQuery).toHaveBeenCalled();

    // Status has a closed set of values: the model's, not the server's.
    await pick(user, 'Add filter', 'Status');
    const status = await screen.findByRole('combobox', { name: 'Status' });
    expect(dimensionValues).not.toHaveBeenCalledWith('status', expect.anything());
    await user.click(status);
    await user.click(await screen.findByRole('option', { name: /^timed_out/ }));
    expect(lastQuery().filters).toEqual({ agent: ['billing', '$agent', 'triage'], status: ['timed_out'] });

    await user.click(screen.getByRole('button', { name: 'Remove Agent filter' }));
    expect(lastQuery().filters).toEqual({ status: ['timed_out'] });
    expect(screen.queryByRole('combobox', { name: 'Agent' })).not.toBeInTheDocument();
  });
});
