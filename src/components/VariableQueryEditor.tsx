import React from 'react';
import { QueryEditorProps } from '@grafana/data';
import { Combobox, InlineField, InlineFieldRow, Stack } from '@grafana/ui';
import { Dimension, DIMENSION_LABELS, DIMENSIONS } from '@agent-insights/model';

import type { DataSource } from '../datasource';
import type { AgentInsightsOptions, AgentQuery, VariableQuery } from '../types';
import { FiltersEditor } from './FiltersEditor';

type Props = QueryEditorProps<DataSource, AgentQuery, AgentInsightsOptions, VariableQuery>;

const DIMENSION_OPTIONS = DIMENSIONS.map((d) => ({ value: d, label: DIMENSION_LABELS[d] }));

/**
 * A variable's values: one dimension's values seen in the dashboard's time range, optionally
 * narrowed by filters on other dimensions, which may use other variables (e.g. tools of `$agent`).
 */
export function VariableQueryEditor({ query, onChange, datasource, range }: Props) {
  const current: VariableQuery = { ...query, refId: query.refId ?? 'variable' };
  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField label="Values of" labelWidth={16} tooltip="The dimension whose values the variable offers">
          <Combobox<string>
            aria-label="Dimension"
            options={DIMENSION_OPTIONS}
            value={current.dimension ?? null}
            placeholder="Choose a dimension"
            width={30}
            onChange={(option) => onChange({ ...current, dimension: option.value as Dimension })}
          />
        </InlineField>
      </InlineFieldRow>
      <FiltersEditor
        datasource={datasource}
        filters={current.filters}
        range={range}
        onChange={(filters) => onChange({ ...current, filters })}
      />
    </Stack>
  );
}
