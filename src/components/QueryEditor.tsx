import React, { KeyboardEvent, useState } from 'react';
import { QueryEditorProps } from '@grafana/data';
import { Combobox, ComboboxOption, InlineField, InlineFieldRow, InlineSwitch, Input, Stack } from '@grafana/ui';
import {
  DIMENSION_LABELS,
  GROUP_BY_DIMENSIONS,
  HEATMAP_KINDS,
  HEATMAP_METRICS,
  METRICS,
  PERIODS,
  QUERY_TYPES,
  QueryType,
} from '@agent-insights/model';

import type { DataSource } from '../datasource';
import type { AgentInsightsOptions, AgentQuery, Filters, VariableRef } from '../types';
import {
  EditorField,
  HEATMAP_LABELS,
  HEATMAP_METRIC_LABELS,
  METRIC_LABELS,
  PERIOD_LABELS,
  QUERY_TYPE_FIELDS,
  QUERY_TYPE_LABELS,
  withQueryType,
} from './editorSpec';
import { FiltersEditor, variableOptions } from './FiltersEditor';

type Props = QueryEditorProps<DataSource, AgentQuery, AgentInsightsOptions>;

const LABEL_WIDTH = 16;

const QUERY_TYPE_OPTIONS: Array<ComboboxOption<string>> = QUERY_TYPES.map((t) => ({
  value: t,
  ...QUERY_TYPE_LABELS[t],
}));

function labelled<T extends string>(values: readonly T[], labels: Record<T, string>): Array<ComboboxOption<string>> {
  return values.map((value) => ({ value, label: labels[value] }));
}

/** Options of a select: the model's values, dashboard variables, and the current value if custom. */
function withVariables(
  options: Array<ComboboxOption<string>>,
  value: string | undefined
): Array<ComboboxOption<string>> {
  const list = [...options, ...variableOptions()];
  if (value && !list.some((o) => o.value === value)) {
    list.push({ value, label: value });
  }
  return list;
}

/** A text field that reports its value when it loses focus or on Enter, not on each keystroke. */
function CommitInput(props: {
  label: string;
  value: string;
  placeholder?: string;
  width?: number;
  onCommit: (value: string) => void;
}) {
  const { label, value, placeholder, width, onCommit } = props;
  const [text, setText] = useState(value);
  // A new value from outside (another query type, an undo) replaces what is being typed.
  const [shown, setShown] = useState(value);
  if (value !== shown) {
    setShown(value);
    setText(value);
  }
  const commit = () => {
    if (text !== value) {
      onCommit(text);
    }
  };
  return (
    <Input
      aria-label={label}
      value={text}
      placeholder={placeholder}
      width={width}
      onChange={(e) => setText(e.currentTarget.value)}
      onBlur={commit}
      onKeyDown={(e: KeyboardEvent<HTMLInputElement>) => e.key === 'Enter' && commit()}
    />
  );
}

/** A number typed into a field: a number when it reads as one, else kept as typed (a `$variable`). */
function toNumberOrVariable(text: string): number | VariableRef | undefined {
  const trimmed = text.trim();
  if (trimmed === '') {
    return undefined;
  }
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : (trimmed as VariableRef);
}

/** Query types whose query cannot run without a run id. */
const NEEDS_RUN_ID: readonly QueryType[] = ['runTrace', 'runSteps', 'runEvents'];

export function QueryEditor({ query, onChange, onRunQuery, datasource, range }: Props) {
  const queryType: QueryType = QUERY_TYPES.includes(query.queryType) ? query.queryType : 'runs';
  const fields = QUERY_TYPE_FIELDS[queryType];
  const shows = (field: EditorField) => fields.includes(field);

  const update = (next: AgentQuery) => {
    onChange(next);
    if (!(NEEDS_RUN_ID.includes(next.queryType) && !next.runId)) {
      onRunQuery();
    }
  };
  const set = <K extends keyof AgentQuery>(key: K, value: AgentQuery[K]) => {
    const next = { ...query, queryType, [key]: value };
    if (value === undefined) {
      delete next[key];
    }
    update(next);
  };

  const select = (
    key: 'metric' | 'period' | 'heatmap' | 'heatmapMetric',
    label: string,
    options: Array<ComboboxOption<string>>,
    tooltip: string
  ) => (
    <InlineField label={label} labelWidth={LABEL_WIDTH} tooltip={tooltip}>
      <Combobox<string>
        aria-label={label}
        options={withVariables(options, query[key])}
        value={query[key] ?? null}
        createCustomValue
        width={30}
        onChange={(option) => set(key, option.value as AgentQuery[typeof key])}
      />
    </InlineField>
  );

  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={LABEL_WIDTH} tooltip="What to show">
          <Combobox<string>
            aria-label="Query type"
            options={QUERY_TYPE_OPTIONS}
            value={queryType}
            width={30}
            onChange={(option) => update(withQueryType(query, option.value as QueryType))}
          />
        </InlineField>
        {shows('runId') && (
          <InlineField
            label="Run ID"
            labelWidth={LABEL_WIDTH}
            tooltip="The run to show: its id, as in the runs table's Run column"
            grow
          >
            <CommitInput
              label="Run ID"
              value={query.runId ?? ''}
              placeholder="run id or $run"
              width={50}
              onCommit={(v) => set('runId', v.trim() || undefined)}
            />
          </InlineField>
        )}
        {shows('metric') && select('metric', 'Metric', labelled(METRICS, METRIC_LABELS), 'What to plot')}
        {shows('groupBy') && (
          <InlineField
            label="Group by"
            labelWidth={LABEL_WIDTH}
            tooltip="One series per value of this dimension; empty for one series"
          >
            <Combobox<string>
              aria-label="Group by"
              options={withVariables(
                GROUP_BY_DIMENSIONS.map((d) => ({ value: d, label: DIMENSION_LABELS[d] })),
                query.groupBy
              )}
              value={query.groupBy ?? null}
              placeholder="None"
              createCustomValue
              isClearable
              width={30}
              onChange={(option) => set('groupBy', (option?.value as AgentQuery['groupBy']) ?? undefined)}
            />
          </InlineField>
        )}
        {shows('period') &&
          select('period', 'Period', labelled(PERIODS, PERIOD_LABELS), 'Calendar period, in the dashboard time zone')}
        {shows('budget') && (
          <InlineField label="Budget" labelWidth={LABEL_WIDTH} tooltip="Credits available in the period">
            <CommitInput
              label="Budget"
              value={query.budget === undefined ? '' : String(query.budget)}
              placeholder="credits"
              width={16}
              onCommit={(v) => set('budget', toNumberOrVariable(v))}
            />
          </InlineField>
        )}
        {shows('heatmap') &&
          select('heatmap', 'Heatmap', labelled(HEATMAP_KINDS, HEATMAP_LABELS), 'Which peaks to show')}
        {shows('heatmapMetric') &&
          select('heatmapMetric', 'Count', labelled(HEATMAP_METRICS, HEATMAP_METRIC_LABELS), 'What each cell counts')}
      </InlineFieldRow>
      {shows('limit') && (
        <InlineFieldRow>
          <InlineField label="Limit" labelWidth={LABEL_WIDTH} tooltip="Rows at most (1 to 10000)">
            <CommitInput
              label="Limit"
              value={query.limit === undefined ? '' : String(query.limit)}
              placeholder="100"
              width={12}
              onCommit={(v) => set('limit', toNumberOrVariable(v))}
            />
          </InlineField>
          <InlineField label="Search" labelWidth={LABEL_WIDTH} tooltip="A run id, trace id, conversation id or user id">
            <CommitInput
              label="Search"
              value={query.search ?? ''}
              placeholder="run, conversation or user id"
              width={36}
              onCommit={(v) => set('search', v.trim() || undefined)}
            />
          </InlineField>
          <InlineField
            label="Live"
            labelWidth={LABEL_WIDTH}
            tooltip="Stream the table (Grafana Live): statuses and durations update by themselves"
          >
            <InlineSwitch
              aria-label="Live"
              value={query.live === true}
              onChange={(e) => set('live', e.currentTarget.checked || undefined)}
            />
          </InlineField>
        </InlineFieldRow>
      )}
      {shows('filters') && (
        <FiltersEditor
          datasource={datasource}
          filters={query.filters}
          range={range}
          onChange={(filters: Filters) => set('filters', filters)}
        />
      )}
    </Stack>
  );
}
