import React, { useState } from 'react';
import { configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { dateTime } from '@grafana/data';
import { setTemplateSrv } from '@grafana/runtime';

import { VariableQueryEditor } from './VariableQueryEditor';
import type { DataSource } from '../datasource';
import type { VariableQuery } from '../types';
import { mockLayout } from '../test/layout';
import { FakeTemplateSrv } from '../test/templateSrv';

jest.setTimeout(60_000);
configure({ defaultHidden: true });
beforeAll(mockLayout);

const range = {
  from: dateTime(1_700_000_000_000),
  to: dateTime(1_700_003_600_000),
  raw: { from: 'now-1h', to: 'now' },
};

let onChange: jest.Mock;
let dimensionValues: jest.Mock;

function Variable({ initial }: { initial: VariableQuery }) {
  const [query, setQuery] = useState(initial);
  return (
    <VariableQueryEditor
      datasource={{ dimensionValues } as unknown as DataSource}
      query={query}
      range={range}
      onRunQuery={jest.fn()}
      onChange={(q) => {
        onChange(q);
        setQuery(q);
      }}
    />
  );
}

const last = (): VariableQuery => onChange.mock.calls[onChange.mock.calls.length - 1][0];

beforeEach(() => {
  setTemplateSrv(new FakeTemplateSrv([{ name: 'agent', value: '$__all', options: ['support', 'billing'] }]));
  onChange = jest.fn();
  dimensionValues = jest.fn(async () => ['support', 'billing']);
});

describe('VariableQueryEditor', () => {
  it('defines a variable as the values of a dimension, narrowed by another variable', async () => {
    const user = userEvent.setup({ delay: null });
    render(<Variable initial={{ refId: 'variable' }} />);

    const dimension = screen.getByRole('combobox', { name: 'Dimension' });
    await user.click(dimension);
    fireEvent.change(dimension, { target: { value: 'Tool' } });
    await user.click(await screen.findByRole('option', { name: /^Tool/ }));
    expect(last()).toEqual({ refId: 'variable', dimension: 'tool' });

    const add = screen.getByRole('combobox', { name: 'Add filter' });
    await user.click(add);
    fireEvent.change(add, { target: { value: 'Agent' } });
    await user.click(await screen.findByRole('option', { name: /^Agent$/ }));
    const agent = await screen.findByRole('combobox', { name: 'Agent' });
    await waitFor(() => expect(dimensionValues).toHaveBeenCalledWith('agent', { range, filters: {} }));
    await user.click(agent);
    await user.click(await screen.findByRole('option', { name: /^\$agent/ }));
    expect(last()).toEqual({ refId: 'variable', dimension: 'tool', filters: { agent: ['$agent'] } });
  });
});
