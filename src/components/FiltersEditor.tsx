import React, { useEffect, useId, useMemo, useState } from 'react';
import type { TimeRange } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { Combobox, ComboboxOption, IconButton, InlineField, InlineFieldRow, MultiCombobox } from '@grafana/ui';
import { CLOSED_VALUES, Dimension, DIMENSION_LABELS, DIMENSIONS, Filters } from '@agent-insights/model';

import type { DataSource } from '../datasource';

/** Dashboard variables offered in every value list, so that `$agent` is one click away. */
export function variableOptions(): Array<ComboboxOption<string>> {
  try {
    return getTemplateSrv()
      .getVariables()
      .map((v) => ({ label: `$${v.name}`, value: `$${v.name}`, description: 'Dashboard variable' }));
  } catch {
    return [];
  }
}

interface FilterRowProps {
  datasource: DataSource;
  dimension: Dimension;
  values: string[];
  /** The other filters, which narrow the values offered. */
  others: Filters;
  range?: TimeRange;
  onChange: (values: string[]) => void;
  onRemove: () => void;
}

function FilterRow({ datasource, dimension, values, others, range, onChange, onRemove }: FilterRowProps) {
  const closed = CLOSED_VALUES[dimension];
  const othersKey = JSON.stringify(others);
  // What the values were loaded for: the dimension, the time range's bounds and the other filters.
  const requestKey = JSON.stringify([dimension, range?.from.valueOf(), range?.to.valueOf(), othersKey]);
  const [result, setResult] = useState<{ key: string; values: string[] }>();

  useEffect(() => {
    if (closed) {
      return;
    }
    let current = true;
    datasource
      .dimensionValues(dimension, { range, filters: JSON.parse(othersKey) })
      .catch(() => [])
      .then((values) => current && setResult({ key: requestKey, values }));
    return () => {
      current = false;
    };
    // `requestKey` stands for the range and the other filters: reload only when they change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [datasource, requestKey, closed]);

  const loading = !closed && result?.key !== requestKey;
  const loaded = useMemo(() => result?.values ?? [], [result]);

  const options = useMemo(() => {
    const known = closed ? [...closed] : loaded;
    const list: Array<ComboboxOption<string>> = [...variableOptions(), ...known.map((v) => ({ label: v, value: v }))];
    for (const v of values) {
      if (!list.some((o) => o.value === v)) {
        list.push({ label: v, value: v });
      }
    }
    return list;
  }, [closed, loaded, values]);

  const label = DIMENSION_LABELS[dimension];
  const id = useId();
  return (
    <InlineFieldRow>
      <InlineField
        label={label}
        htmlFor={id}
        labelWidth={16}
        tooltip={`Only data whose ${label.toLowerCase()} is one of these values; empty, or a variable set to "All", means any`}
      >
        <MultiCombobox
          id={id}
          options={options}
          value={values}
          loading={loading}
          createCustomValue
          placeholder="Any"
          width={40}
          onChange={(selected) => onChange(selected.map((o) => String(o.value)))}
        />
      </InlineField>
      <IconButton
        name="times"
        tooltip={`Remove ${label} filter`}
        aria-label={`Remove ${label} filter`}
        onClick={onRemove}
      />
    </InlineFieldRow>
  );
}

export interface FiltersEditorProps {
  datasource: DataSource;
  filters: Filters | undefined;
  range?: TimeRange;
  onChange: (filters: Filters) => void;
}

/**
 * One row per filtered dimension (values loaded from the server for the time range and the other
 * filters, dashboard variables offered, free text allowed) and a picker to add a dimension.
 */
export function FiltersEditor({ datasource, filters, range, onChange }: FiltersEditorProps) {
  const current: Filters = filters ?? {};
  const dimensions = (Object.keys(current) as Dimension[]).filter((d) => DIMENSIONS.includes(d));
  const addable = DIMENSIONS.filter((d) => !dimensions.includes(d)).map((d) => ({
    label: DIMENSION_LABELS[d],
    value: d,
  }));

  const setValues = (dimension: Dimension, values: string[]) => onChange({ ...current, [dimension]: values });
  const remove = (dimension: Dimension) => {
    const next = { ...current };
    delete next[dimension];
    onChange(next);
  };
  const othersOf = (dimension: Dimension): Filters => {
    const others = { ...current };
    delete others[dimension];
    return others;
  };

  return (
    <>
      {dimensions.map((dimension) => (
        <FilterRow
          key={dimension}
          datasource={datasource}
          dimension={dimension}
          values={current[dimension] ?? []}
          others={othersOf(dimension)}
          range={range}
          onChange={(values) => setValues(dimension, values)}
          onRemove={() => remove(dimension)}
        />
      ))}
      {addable.length > 0 && (
        <InlineFieldRow>
          <InlineField label="Filter" labelWidth={16} tooltip="Add a filter on a dimension">
            <Combobox<string>
              aria-label="Add filter"
              placeholder="Add filter"
              options={addable}
              value={null}
              width={40}
              onChange={(option) => setValues(option.value as Dimension, [])}
            />
          </InlineField>
        </InlineFieldRow>
      )}
    </>
  );
}
