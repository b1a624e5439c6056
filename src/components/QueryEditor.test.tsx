import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { QueryEditor } from './QueryEditor';
import { DataSource } from '../datasource';
import { MyQuery } from '../types';

// Smoke test of the scaffolded editor: proves that jest, SWC and @grafana/ui render together.
describe('QueryEditor', () => {
  const datasource = {} as DataSource;

  it('renders the query fields and reports edits', () => {
    const query: MyQuery = { refId: 'A', constant: 6.5, queryText: '' };
    const onChange = jest.fn();
    const onRunQuery = jest.fn();
    render(<QueryEditor datasource={datasource} query={query} onChange={onChange} onRunQuery={onRunQuery} />);

    const text = screen.getByPlaceholderText('Enter a query');
    fireEvent.change(text, { target: { value: 'runs' } });
    expect(onChange).toHaveBeenCalledWith({ ...query, queryText: 'runs' });
    expect(onRunQuery).not.toHaveBeenCalled();

    fireEvent.change(screen.getByDisplayValue('6.5'), { target: { value: '2' } });
    expect(onChange).toHaveBeenLastCalledWith({ ...query, constant: 2 });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });
});
