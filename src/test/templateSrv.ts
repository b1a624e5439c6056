/**
 * A stand-in for Grafana's TemplateSrv with its interpolation rules: a multi-value variable hands
 * its values to a format function as an array; "All" ($__all) expands to every option (or to the
 * custom all value); the 'text' format gives the display text ("All"); scoped variables win.
 */
import type { ScopedVars, TypedVariableModel } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

export interface FakeVariable {
  name: string;
  /** Current value: a string, a list (multi-value) or '$__all'. */
  value: string | string[];
  /** Every value the variable offers (what "All" expands to). */
  options?: string[];
  allValue?: string;
}

const PATTERN = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.[^:^}]+)?(?::([^}]+))?\}/g;

export class FakeTemplateSrv implements TemplateSrv {
  adhoc: Array<{ key: string; operator: string; value: string }> | undefined;

  constructor(private variables: FakeVariable[] = []) {}

  setVariables(variables: FakeVariable[]) {
    this.variables = variables;
  }

  getVariables(): TypedVariableModel[] {
    return this.variables.map(
      (v) =>
        ({
          name: v.name,
          type: 'query',
          multi: Array.isArray(v.value),
          includeAll: true,
          current: { value: v.value, text: v.value === '$__all' ? 'All' : v.value },
        }) as unknown as TypedVariableModel
    );
  }

  containsTemplate(target?: string): boolean {
    return !!target && new RegExp(PATTERN.source).test(target);
  }

  updateTimeRange(): void {}

  replace(target?: string, scopedVars?: ScopedVars, format?: string | Function): string {
    if (!target) {
      return target ?? '';
    }
    return target.replace(PATTERN, (match, n1, n2, f2, n4, f4) => {
      const name: string = n1 ?? n2 ?? n4;
      const fmt = typeof format === 'string' || typeof format === 'function' ? format : (f2 ?? f4);
      const scoped = scopedVars?.[name];
      const variable = this.variables.find((v) => v.name === name);
      if (!scoped && !variable) {
        return match;
      }
      let value: string | string[] = scoped ? scoped.value : variable!.value;
      let text: string = scoped ? String(scoped.text) : Array.isArray(value) ? value.join(' + ') : value;
      if (value === '$__all' || (Array.isArray(value) && value.includes('$__all'))) {
        text = 'All';
        value = variable?.allValue ?? variable?.options ?? [];
      }
      if (typeof fmt === 'function') {
        return fmt(value, { name, type: 'query', multi: true, includeAll: true });
      }
      if (fmt === 'text') {
        return text;
      }
      return Array.isArray(value) ? (value.length > 1 ? `{${value.join(',')}}` : value.join(',')) : value;
    });
  }

  getAdhocFilters(_datasourceName: string) {
    return this.adhoc ?? [];
  }
}
