// The core's event emitter: one listener kept as itself, more in a list; every
// listener runs with `this` the emitter (as Node's); removing, prepending and
// once behave as Node's do.

import { describe, expect, it } from 'vitest';
import { Emitter } from '../../src/stack/emitter.ts';

class E extends Emitter<{ tick: (n: number) => void }> {
  fire(n: number): boolean {
    return this.emit('tick', n);
  }
}

describe('Emitter', () => {
  it('calls listeners in order with `this` the emitter; off, prepend, once and counts as Node', () => {
    const e = new E();
    const seen: string[] = [];
    expect(e.fire(0)).toBe(false);
    function a(this: E, n: number) {
      expect(this).toBe(e);
      seen.push(`a${n}`);
    }
    const b = (n: number) => seen.push(`b${n}`);
    e.on('tick', a);
    expect(e.listenerCount('tick')).toBe(1);
    expect(e.fire(1)).toBe(true);
    e.on('tick', b);
    e.prependListener('tick', (n) => seen.push(`p${n}`));
    e.once('tick', (n) => seen.push(`o${n}`));
    expect(e.listenerCount('tick')).toBe(4);
    e.fire(2);
    e.fire(3);
    e.off('tick', a);
    e.fire(4);
    expect(seen).toEqual(['a1', 'p2', 'a2', 'b2', 'o2', 'p3', 'a3', 'b3', 'p4', 'b4']);
    expect(e.listeners('tick')).toHaveLength(2);
    e.removeAllListeners('tick');
    expect(e.fire(5)).toBe(false);
    // Down to one and back: a lone listener removed leaves none.
    e.on('tick', b);
    e.off('tick', a);
    e.off('tick', b);
    expect(e.listenerCount('tick')).toBe(0);
    expect(e.fire(6)).toBe(false);
  });

  it('a listener that removes itself while the event runs does not stop the others', () => {
    const e = new E();
    const seen: number[] = [];
    const self = () => {
      seen.push(1);
      e.off('tick', self);
    };
    e.on('tick', self);
    e.on('tick', () => seen.push(2));
    e.fire(0);
    e.fire(0);
    expect(seen).toEqual([1, 2, 2]);
  });
});
