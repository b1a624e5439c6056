/**
 * Data frames in the JSON dialect that grafana-plugin-sdk-go reads (data.Frame UnmarshalJSON):
 * a frame is {schema, data}; every field carries its Go type in typeInfo.frame and
 * typeInfo.nullable where a value may be null; times are epoch milliseconds. Non-finite numbers
 * become null, so a frame never needs the `entities` block. One builder, used by every capability.
 */

export type FieldKind = 'time' | 'number' | 'int' | 'string' | 'boolean' | 'json';

export interface FieldConfig {
  displayName?: string;
  displayNameFromDS?: string;
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  description?: string;
  links?: { title: string; url: string; internal?: unknown }[];
  custom?: Record<string, unknown>;
  thresholds?: unknown;
  color?: unknown;
  mappings?: unknown[];
  interval?: number;
}

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  values: unknown[];
  config?: FieldConfig;
  labels?: Record<string, string>;
}

export interface FrameMeta {
  type?: string;
  typeVersion?: [number, number];
  preferredVisualisationType?: 'graph' | 'table' | 'logs' | 'trace' | 'nodeGraph' | 'flamegraph' | 'rawPrometheus';
  channel?: string;
  executedQueryString?: string;
  notices?: { severity: 'info' | 'warning' | 'error'; text: string }[];
  custom?: Record<string, unknown>;
}

export interface FrameJson {
  schema: {
    name?: string;
    refId?: string;
    meta?: FrameMeta;
    fields: { name: string; type: string; typeInfo: { frame: string; nullable?: boolean }; config?: FieldConfig; labels?: Record<string, string> }[];
  };
  data: { values: unknown[][] };
}

const GO_TYPE: Record<FieldKind, string> = {
  time: 'time.Time',
  number: 'float64',
  int: 'int64',
  string: 'string',
  boolean: 'bool',
  json: 'json.RawMessage',
};
const JS_TYPE: Record<FieldKind, string> = { time: 'time', number: 'number', int: 'number', string: 'string', boolean: 'boolean', json: 'other' };

function normalise(kind: FieldKind, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  switch (kind) {
    case 'time':
      return v instanceof Date ? v.getTime() : Number(v);
    case 'number': {
      const n = Number(v);
      return Number.isFinite(n) ? n : null;
    }
    case 'int': {
      const n = Number(v);
      return Number.isFinite(n) ? Math.round(n) : null;
    }
    case 'string':
      return String(v);
    case 'boolean':
      return Boolean(v);
    case 'json':
      return v;
  }
}

export function field(name: string, kind: FieldKind, values: unknown[], config?: FieldConfig, labels?: Record<string, string>): FieldSpec {
  return { name, kind, values, config, labels };
}

export function frame(name: string | undefined, fields: FieldSpec[], meta?: FrameMeta, refId?: string): FrameJson {
  const lengths = new Set(fields.map((f) => f.values.length));
  if (lengths.size > 1) throw new Error(`frame ${name ?? ''}: fields have different lengths (${[...lengths].join(', ')})`);
  const values = fields.map((f) => f.values.map((v) => normalise(f.kind, v)));
  return {
    schema: {
      ...(name !== undefined ? { name } : {}),
      ...(refId !== undefined ? { refId } : {}),
      ...(meta ? { meta } : {}),
      fields: fields.map((f, i) => ({
        name: f.name,
        type: JS_TYPE[f.kind],
        typeInfo: { frame: GO_TYPE[f.kind], ...(values[i].some((v) => v === null) ? { nullable: true } : {}) },
        ...(f.config ? { config: f.config } : {}),
        ...(f.labels ? { labels: f.labels } : {}),
      })),
    },
    data: { values },
  };
}

/** Adds a notice to a frame (for example: models without a known price). */
export function withNotice(f: FrameJson, severity: 'info' | 'warning', text: string): FrameJson {
  const meta = f.schema.meta ?? {};
  f.schema.meta = { ...meta, notices: [...(meta.notices ?? []), { severity, text }] };
  return f;
}
