/**
 * jsdom has no layout and no canvas: @grafana/ui's comboboxes measure their menu (to virtualise
 * options) and their text (to size pills), and watch visibility. Test-only stand-ins.
 */
class NoopObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}

export function mockLayout() {
  Object.defineProperty(Element.prototype, 'getBoundingClientRect', {
    configurable: true,
    value: () => ({ width: 120, height: 120, top: 0, left: 0, bottom: 0, right: 0, x: 0, y: 0, toJSON: () => ({}) }),
  });
  for (const name of ['offsetHeight', 'offsetWidth', 'clientHeight', 'clientWidth'] as const) {
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => 300 });
  }
  Object.defineProperty(HTMLCanvasElement.prototype, 'getContext', {
    configurable: true,
    value: () => ({ font: '', measureText: (text: string) => ({ width: text.length * 7 }) }),
  });
  for (const name of ['IntersectionObserver', 'ResizeObserver'] as const) {
    if (!(name in window)) {
      Object.defineProperty(window, name, { configurable: true, writable: true, value: NoopObserver });
    }
  }
}
