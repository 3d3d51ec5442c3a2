// A small typed event emitter that runs in browsers and Node alike. Unlike
// Node's, an 'error' nobody listens for is not thrown (it would unwind the
// stack's packet processing): the Node sockets of `synack/node` are real
// EventEmitters with Node's rule.

// biome-ignore lint/suspicious/noExplicitAny: listener argument lists are declared per event map.
type Listener = (...args: any[]) => void;

export class Emitter<Events extends { [K in keyof Events]: Listener }> {
  /** Made on the first listener: most sockets of a busy server never get one. */
  private handlers: { [K in keyof Events]?: Events[K][] } | null = null;

  on<K extends keyof Events>(event: K, fn: Events[K]): this {
    this.listFor(event).push(fn);
    this.listenerAdded(event);
    return this;
  }

  private listFor<K extends keyof Events>(event: K): Events[K][] {
    const h: { [K in keyof Events]?: Events[K][] } = (this.handlers ??= {});
    let list = h[event];
    if (!list) {
      list = [];
      h[event] = list;
    }
    return list;
  }

  once<K extends keyof Events>(event: K, fn: Events[K]): this {
    const wrap = ((...args: unknown[]) => {
      this.off(event, wrap);
      fn(...args);
    }) as Events[K];
    return this.on(event, wrap);
  }

  off<K extends keyof Events>(event: K, fn: Events[K]): this {
    const list = this.handlers?.[event];
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
    this.listFor(event).unshift(fn);
    this.listenerAdded(event);
    return this;
  }

  removeAllListeners<K extends keyof Events>(event?: K): this {
    if (event === undefined) this.handlers = null;
    else if (this.handlers) delete this.handlers[event];
    return this;
  }

  listeners<K extends keyof Events>(event: K): Events[K][] {
    const list: Events[K][] = this.handlers?.[event] ?? [];
    return [...list];
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.handlers?.[event]?.length ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): boolean {
    const list = this.handlers?.[event];
    if (!list || list.length === 0) return false;
    // One listener (the usual case) needs no copy; more are copied, as a listener
    // may remove itself or others while they run.
    if (list.length === 1) list[0](...args);
    else for (const fn of [...list]) fn(...args);
    return true;
  }

  protected listenerAdded(_event: keyof Events): void {}
}
