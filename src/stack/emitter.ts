// A small typed event emitter that runs in browsers and Node alike. Unlike
// Node's, an 'error' nobody listens for is not thrown (it would unwind the
// stack's packet processing): the Node sockets of `synack/node` are real
// EventEmitters with Node's rule.

// biome-ignore lint/suspicious/noExplicitAny: listener argument lists are declared per event map.
type Listener = (...args: any[]) => void;

export class Emitter<Events extends { [K in keyof Events]: Listener }> {
  private handlers: { [K in keyof Events]?: Events[K][] } = {};

  on<K extends keyof Events>(event: K, fn: Events[K]): this {
    (this.handlers[event] ??= []).push(fn);
    this.listenerAdded(event);
    return this;
  }

  once<K extends keyof Events>(event: K, fn: Events[K]): this {
    const wrap = ((...args: unknown[]) => {
      this.off(event, wrap);
      fn(...args);
    }) as Events[K];
    return this.on(event, wrap);
  }

  off<K extends keyof Events>(event: K, fn: Events[K]): this {
    const list = this.handlers[event];
    if (list) {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }

  /** Node's names for the same operations. */
  addListener<K extends keyof Events>(event: K, fn: Events[K]): this {
    return this.on(event, fn);
  }

  removeListener<K extends keyof Events>(event: K, fn: Events[K]): this {
    return this.off(event, fn);
  }

  /** Adds `fn` before the listeners already there. */
  prependListener<K extends keyof Events>(event: K, fn: Events[K]): this {
    (this.handlers[event] ??= []).unshift(fn);
    this.listenerAdded(event);
    return this;
  }

  removeAllListeners<K extends keyof Events>(event?: K): this {
    if (event === undefined) this.handlers = {};
    else delete this.handlers[event];
    return this;
  }

  listeners<K extends keyof Events>(event: K): Events[K][] {
    const list: Events[K][] = this.handlers[event] ?? [];
    return [...list];
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.handlers[event]?.length ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): boolean {
    const list = this.handlers[event];
    if (!list || list.length === 0) return false;
    for (const fn of [...list]) fn(...args);
    return true;
  }

  protected listenerAdded(_event: keyof Events): void {}
}
