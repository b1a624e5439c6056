// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';

// React 19's react-dom/server.browser (loaded by @grafana/ui 13) creates a MessageChannel when it is
// imported; jest-environment-jsdom 29 has none. A small timer-based stand-in is enough for tests and,
// unlike Node's own MessageChannel, holds no handle that keeps jest from exiting.
if (typeof global.MessageChannel === 'undefined') {
  class TestMessagePort {
    constructor() {
      this.onmessage = null;
      this.other = null;
    }
    postMessage(data) {
      const target = this.other;
      setTimeout(() => target && target.onmessage && target.onmessage({ data }), 0);
    }
    start() {}
    close() {}
    addEventListener() {}
    removeEventListener() {}
  }
  class TestMessageChannel {
    constructor() {
      this.port1 = new TestMessagePort();
      this.port2 = new TestMessagePort();
      this.port1.other = this.port2;
      this.port2.other = this.port1;
    }
  }
  global.MessageChannel = TestMessageChannel;
}
