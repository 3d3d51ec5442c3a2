// A small typed event emitter that runs in browsers and Node alike. Unlike
// Node's, an 'error' nobody listens for is not thrown (it would unwind the
// stack's packet processing): the Node sockets of `synack/node` are real
// EventEmitters with Node's rule.

// biome-ignore lint/suspicious/noExplicitAny: listener argument lists are declared per event map.
type Listener = (...args: any[]) => void;

export class Emitter<Events extends { [K in keyof Events]: Listener }> {
  /**
   * Made on the first listener: most sockets of a busy server never get one.
   * An event with one listener keeps the function itself, with more an array
   * (as Node's EventEmitter): a server's every socket watches a few events,
   * and an array per event cost ~150 bytes.
   */
  private handlers: Record<PropertyKey, Listener | Listener[]> | null = null;

  on<K extends keyof Events>(event: K, fn: Events[K]): this {
    return this.add(event, fn, false);
  }

  private add<K extends keyof Events>(event: K, fn: Events[K], first: boolean): this {
    const h = (this.handlers ??= {});
    const cur = h[event];
    if (cur === undefined) h[event] = fn;
    else if (!Array.isArray(cur)) h[event] = first ? [fn, cur] : [cur, fn];
    else if (first) cur.unshift(fn);
    else cur.push(fn);
    this.listenerAdded(event);
    return this;
  }

  once<K extends keyof Events>(event: K, fn: Events[K]): this {
    const wrap = ((...args: unknown[]) => {
      this.off(event, wrap);
      fn.apply(this, args);
    }) as Events[K];
    return this.on(event, wrap);
  }

  off<K extends keyof Events>(event: K, fn: Events[K]): this {
    const h = this.handlers;
    const cur = h?.[event];
    if (!h || cur === undefined) return this;
    if (!Array.isArray(cur)) {
      if (cur === fn) delete h[event];
      return this;
    }
    const i = cur.indexOf(fn);
    if (i >= 0) cur.splice(i, 1);
    if (cur.length === 0) delete h[event];
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
    return this.add(event, fn, true);
  }

  removeAllListeners<K extends keyof Events>(event?: K): this {
    if (event === undefined) this.handlers = null;
    else if (this.handlers) delete this.handlers[event];
    return this;
  }

  listeners<K extends keyof Events>(event: K): Events[K][] {
    const cur = this.handlers?.[event];
    if (cur === undefined) return [];
    return (Array.isArray(cur) ? [...cur] : [cur]) as Events[K][];
  }

  listenerCount<K extends keyof Events>(event: K): number {
    const cur = this.handlers?.[event];
    return cur === undefined ? 0 : Array.isArray(cur) ? cur.length : 1;
  }

  /** Calls the listeners of `event` with `this` the emitter, as Node's EventEmitter does. */
  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): boolean {
    // Small, so V8 inlines it where a socket emits: with nobody listening it ends here.
    const h = this.handlers;
    return h === null ? false : this.call(h[event], args);
  }

  private call(cur: Listener | Listener[] | undefined, args: unknown[]): boolean {
    if (cur === undefined) return false;
    if (!Array.isArray(cur)) {
      cur.apply(this, args);
      return true;
    }
    if (cur.length === 0) return false;
    // Copied: a listener may remove itself or others while they run.
    for (const fn of [...cur]) fn.apply(this, args);
    return true;
  }

  protected listenerAdded(_event: keyof Events): void {}
}
