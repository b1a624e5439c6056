/**
 * A store that notes the SQL of every read: tests check which relations a query used (a rollup,
 * a batch of one statement), so that an equality with the slow path cannot pass vacuously.
 */
import { Store } from '../store/store';

export function recordingReads(store: Store, read: string[]): Store {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'read') return (sql: string, params?: unknown[]) => (read.push(sql), target.read(sql, params));
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
